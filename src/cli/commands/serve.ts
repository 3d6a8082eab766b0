import { Command } from "commander";
import { CliError } from "../../core/errors.ts";
import { runServer } from "../../http/serve.ts";
import { assertNotRoot, claimPidFile } from "../../ops/guard.ts";
import type { CliContext } from "../context.ts";
import {
  loadValidConfig,
  reportStarted,
  startBackground,
  type StartFlags,
  warnWithoutAccounts,
} from "./_lifecycle.ts";

interface ServeFlags extends StartFlags {
  daemon?: boolean;
  verbose?: boolean;
}

/**
 * `eggpool serve`: runs the proxy in the foreground until SIGINT/SIGTERM, or
 * with `--daemon` starts it in the background and returns once it is healthy.
 */
export function serveCommand(ctx: CliContext): Command {
  return new Command("serve")
    .description("run the proxy, API and dashboard (foreground; --daemon detaches)")
    .option("--daemon", "start in the background and return once it answers /v1/healthz")
    .option("--log-file <path>", "daemon output (default: $EGGPOOL_LOG_FILE or the state dir)")
    .option("--quiet", "with --daemon and no --log-file: discard the server's output")
    .option("--as-root", "allow running as root")
    .option("--verbose", "accepted for compatibility; serve already runs in the foreground")
    .action(async (flags: ServeFlags) => {
      assertNotRoot(ctx.env.uid, flags.asRoot);
      const loaded = await loadValidConfig(ctx);
      warnWithoutAccounts(ctx, loaded);
      if (flags.daemon) {
        reportStarted(ctx, await startBackground(ctx, loaded, flags), "Started");
        return;
      }
      const { host, port } = loaded.config.server;
      const log = serverLog(ctx);
      const claim = await claimPidFile(ctx.env, { host, port });
      for (const path of claim.staleCleared) log(`Removed stale PID file ${path}`);
      try {
        await runServer(loaded, { log });
      } catch (error) {
        if (error instanceof Deno.errors.AddrInUse) {
          throw new CliError(`Cannot listen on ${host}:${port}: the address is already in use`);
        }
        throw error;
      } finally {
        claim.release();
      }
    });
}

/** Server log lines on stderr; timestamped when stderr is a file (daemon, systemd without a TTY). */
function serverLog(ctx: CliContext): (message: string) => void {
  const stamp = !Deno.stderr.isTerminal();
  return (m) => ctx.io.err(`${stamp ? `${new Date().toISOString()} ` : ""}[eggpool] ${m}\n`);
}
