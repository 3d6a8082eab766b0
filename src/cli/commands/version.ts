import { Command } from "commander";
import type { CliContext } from "../context.ts";
import { EGGPOOL_VERSION } from "../version.ts";

/** `eggpool version`: prints the EggPool and Deno versions. */
export function versionCommand(ctx: CliContext): Command {
  return new Command("version")
    .description("print the EggPool version")
    .action(() => {
      ctx.io.out(`eggpool ${EGGPOOL_VERSION} (deno ${Deno.version.deno})\n`);
    });
}
