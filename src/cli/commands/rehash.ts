import { Command } from "commander";
import { CliError, ConfigError } from "../../core/errors.ts";
import type { LoadedConfig } from "../../config/load.ts";
import { checkRoot } from "../../ops/guard.ts";
import type { CliContext } from "../context.ts";
import { loadValidConfig } from "./_lifecycle.ts";
import { type RestartFlags, restartWith, withRestartFlags } from "./restart.ts";

/**
 * `eggpool rehash`: apply config changes. Batch 1 has no live reload
 * (09-decisions), so it validates the file first and then restarts; an
 * invalid file leaves the running server untouched.
 */
export function rehashCommand(ctx: CliContext): Command {
  return withRestartFlags(
    new Command("rehash").description(
      "validate the config, then restart the server to apply it (an invalid config changes nothing)",
    ),
  ).action(async (flags: RestartFlags) => {
    checkRoot(ctx, flags.asRoot);
    let loaded: LoadedConfig;
    try {
      loaded = await loadValidConfig(ctx);
    } catch (error) {
      if (error instanceof ConfigError) {
        ctx.io.err(`Error: ${error.message}\n`);
        ctx.io.err("Live configuration is unchanged; the running server keeps its old config.\n");
        // Already printed; an empty message only sets the exit code.
        throw new CliError("", 1);
      }
      throw error;
    }
    ctx.io.out(`Validated config from ${loaded.path} (digest=${loaded.digest.slice(0, 12)}…)\n`);
    await restartWith(ctx, loaded, flags);
  });
}
