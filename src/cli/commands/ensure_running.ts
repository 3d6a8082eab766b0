import { Command } from "commander";
import { runFast } from "../../ops/fast.ts";
import type { CliContext } from "../context.ts";
import { CliError } from "../../core/errors.ts";

/** `eggpool ensure-running`: start the server in the background unless it already runs. */
export function ensureRunningCommand(ctx: CliContext): Command {
  return new Command("ensure-running")
    .description("start the server in the background unless it is running (for cron)")
    .option("--log-file <path>", "server output (default: $EGGPOOL_LOG_FILE or the state dir)")
    .option("--as-root", "allow running as root")
    .action(async (flags: { logFile?: string; asRoot?: boolean }) => {
      const args: string[] = [];
      if (flags.asRoot) args.push("--as-root");
      if (flags.logFile !== undefined) args.push("--log-file", flags.logFile);
      const code = await runFast(
        { command: "ensure-running", config: ctx.configPath().path, flags: args },
        ctx.io,
        ctx.env,
      );
      if (code !== 0) throw new CliError("", code);
    });
}
