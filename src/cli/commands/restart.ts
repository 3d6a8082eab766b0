import { Command } from "commander";
import { CliError } from "../../core/errors.ts";
import { stopServer } from "../../ops/stop.ts";
import { checkRoot } from "../../ops/guard.ts";
import type { LoadedConfig } from "../../config/load.ts";
import type { CliContext } from "../context.ts";
import { loadValidConfig, reportStarted, startBackground, type StartFlags } from "./_lifecycle.ts";
import { DEFAULT_STOP_TIMEOUT_S, parseTimeout, reportStop } from "./stop.ts";

/** Flags of `restart` and `rehash`. */
export interface RestartFlags extends StartFlags {
  timeout: number;
}

/** Adds the flags `restart` and `rehash` share. */
export function withRestartFlags(cmd: Command): Command {
  return cmd
    .option(
      "--timeout <seconds>",
      "how long to wait for the old server",
      parseTimeout,
      DEFAULT_STOP_TIMEOUT_S,
    )
    .option(
      "--log-file <path>",
      "output of the new server (default: $EGGPOOL_LOG_FILE or the state dir)",
    )
    .option("--quiet", "discard the new server's output")
    .option("--as-root", "allow running as root");
}

/** Stops the running server (if any) and starts a new one with the already validated `loaded`. */
export async function restartWith(
  ctx: CliContext,
  loaded: LoadedConfig,
  flags: RestartFlags,
): Promise<void> {
  const stopped = await stopServer(ctx.env, flags.timeout * 1000);
  if (!reportStop(ctx, stopped, flags.timeout)) {
    throw new CliError("the old server is still running; not starting a new one");
  }
  ctx.io.out("Starting server...\n");
  reportStarted(ctx, await startBackground(ctx, loaded, flags), "Started");
}

/** `eggpool restart`: validate the config, stop the server, start it again in the background. */
export function restartCommand(ctx: CliContext): Command {
  return withRestartFlags(
    new Command("restart").description("stop the server and start it again in the background"),
  ).action(async (flags: RestartFlags) => {
    checkRoot(ctx, flags.asRoot);
    await restartWith(ctx, await loadValidConfig(ctx), flags);
  });
}
