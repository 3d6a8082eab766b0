import { Command, InvalidArgumentError } from "commander";
import { stopServer } from "../../ops/stop.ts";
import type { StopResult } from "../../ops/stop.ts";
import { CliError } from "../../core/errors.ts";
import type { CliContext } from "../context.ts";

/**
 * Default seconds `stop` and `restart` wait for the server to exit. Spec 07
 * §2 says 10, but the server's default shutdown grace is 10 s too
 * (`[server].shutdown_grace_s`), and after it come the error events and the
 * stats flush: with 10 a stop during a long stream would report a failure
 * just before the server exits.
 */
export const DEFAULT_STOP_TIMEOUT_S = 15;

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
        `Server did not stop within ${timeoutS}s (PID ${result.pid}). It may still be letting ` +
          "open streams finish ([server].shutdown_grace_s): run 'eggpool stop' again to end " +
          `them now; 'kill -9 ${result.pid}' only if it is stuck (it loses unflushed stats).\n`,
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
      // Spec 07 §2 exits 0 here, but scripts and operators read 0 as "stopped"
      // (issue #12): a server still running is a failure, reported above.
      if (!reportStop(ctx, result, flags.timeout)) throw new CliError("", 1);
    });
}
