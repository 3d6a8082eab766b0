import { Command, InvalidArgumentError } from "commander";
import { stopServer } from "../../ops/stop.ts";
import type { StopResult } from "../../ops/stop.ts";
import { CliError } from "../../core/errors.ts";
import type { CliContext } from "../context.ts";

/** Default seconds `stop` and `restart` wait for the server to exit (spec 07 §2). */
export const DEFAULT_STOP_TIMEOUT_S = 10;

/** Parses `--timeout` seconds: a positive number. */
export function parseTimeout(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError("expected a positive number of seconds");
  }
  return n;
}

/** Prints what {@linkcode stopServer} did; returns true when no server runs any more. */
export function reportStop(ctx: CliContext, result: StopResult, timeoutS: number): boolean {
  switch (result.kind) {
    case "no_pid_file":
      ctx.io.out("Server is not running (no PID file found).\n");
      return true;
    case "stale":
      ctx.io.out(`Server is not running (stale PID file ${result.pidFile} removed).\n`);
      return true;
    case "stopped":
      ctx.io.out(`Server stopped (PID ${result.pid}).\n`);
      return true;
    case "timeout":
      ctx.io.err(
        `Server did not stop within ${timeoutS}s. Try 'kill -9 ${result.pid}' if it is stuck.\n`,
      );
      return false;
    case "signal_failed":
      throw new CliError(`cannot signal the server (PID ${result.pid}): ${result.message}`);
  }
}

/** `eggpool stop [--timeout 10]`: SIGTERM the server and wait for it to exit. */
export function stopCommand(ctx: CliContext): Command {
  return new Command("stop")
    .description("stop the background server (SIGTERM, then wait)")
    .option("--timeout <seconds>", "how long to wait", parseTimeout, DEFAULT_STOP_TIMEOUT_S)
    .action(async (flags: { timeout: number }) => {
      const result = await stopServer(ctx.env, flags.timeout * 1000);
      // Spec 07 §2: a server that outlives the timeout is reported, not an error (exit 0).
      reportStop(ctx, result, flags.timeout);
    });
}
