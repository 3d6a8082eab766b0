import { Command } from "commander";
import { runFast } from "../../ops/fast.ts";
import type { CliContext } from "../context.ts";
import { CliError } from "../../core/errors.ts";

/**
 * `eggpool croncheck` in the full CLI, for help and for command lines the
 * fast-path scanner in main.ts did not recognise; the work is the same.
 */
export function croncheckCommand(ctx: CliContext): Command {
  return new Command("croncheck")
    .description("exit 0 when the server is running, 1 when not (PID file only; cheap)")
    .option("-q, --quiet", "print nothing")
    .action(async (flags: { quiet?: boolean }) => {
      const code = await runFast(
        { command: "croncheck", flags: flags.quiet ? ["--quiet"] : [] },
        ctx.io,
        ctx.env,
      );
      if (code !== 0) throw new CliError("", code);
    });
}
