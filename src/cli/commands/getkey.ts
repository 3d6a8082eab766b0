import { Command } from "commander";
import { CliError } from "../../core/errors.ts";
import { loadConfig, resolveServerApiKey } from "../../config/load.ts";
import type { CliContext } from "../context.ts";

/**
 * `eggpool getkey`: prints the local API key with no trailing newline, so
 * `$(eggpool getkey)` and `eggpool getkey | xclip` take exactly the key.
 */
export function getkeyCommand(ctx: CliContext): Command {
  return new Command("getkey")
    .description("print the local API key clients use (no trailing newline)")
    .action(async () => {
      const loaded = await loadConfig(ctx.configPath().path, { env: (n) => ctx.env.get(n) });
      const key = resolveServerApiKey(loaded);
      if (key === undefined) {
        throw new CliError("No API key configured. Run 'eggpool newkey' to create one");
      }
      ctx.io.out(key);
    });
}
