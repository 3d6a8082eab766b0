import { Command } from "commander";
import { checkRoot } from "../../ops/guard.ts";
import type { CliContext } from "../context.ts";
import {
  loadValidConfig,
  reportStarted,
  startBackground,
  type StartFlags,
  warnWithoutAccounts,
} from "./_lifecycle.ts";
import { serveForeground } from "./_serve_foreground.ts";

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
      if (!flags.daemon) return await serveForeground(ctx, flags);
      checkRoot(ctx, flags.asRoot);
      const loaded = await loadValidConfig(ctx);
      warnWithoutAccounts(ctx, loaded);
      reportStarted(ctx, await startBackground(ctx, loaded, flags), "Started");
    });
}
