import { Command } from "commander";
import { parse } from "smol-toml";
import { setValue } from "../../config/toml_edit.ts";
import type { CliContext } from "../context.ts";
import {
  type ApplyFlags,
  applyToServer,
  commitChange,
  editFailed,
  readConfigText,
  withApplyFlags,
} from "./_config_edit.ts";
import { CliError } from "../../core/errors.ts";

/** Whether `[dashboard].public` is on in `text` (missing: off, the default). */
function isPublic(text: string): boolean {
  try {
    const doc = parse(text) as { dashboard?: { public?: unknown } };
    return doc.dashboard?.public === true;
  } catch {
    throw new CliError("the config is not valid TOML; fix it first ('eggpool check-config')");
  }
}

/**
 * `eggpool dashboard public [--on|--off]` (spec 07 §3): without a flag it
 * toggles; writes `[dashboard].public` (adding the key or table), then
 * restarts a running server.
 */
export function dashboardCommand(ctx: CliContext): Command {
  const dashboard = new Command("dashboard").description("dashboard settings");
  dashboard.addCommand(
    withApplyFlags(
      new Command("public")
        .description("open the dashboard without the API key, or require it again (toggles)")
        .option("--on", "make it public")
        .option("--off", "require the API key"),
    ).action(async (flags: ApplyFlags & { on?: boolean; off?: boolean }) => {
      if (flags.on && flags.off) throw new CliError("give --on or --off, not both");
      const path = ctx.configPath().path;
      const before = await readConfigText(path);
      const next = flags.on ? true : flags.off ? false : !isPublic(before);
      let text: string;
      try {
        text = setValue(before, ["dashboard"], "public", next);
      } catch (error) {
        editFailed(error);
      }
      await commitChange(ctx, { text });
      ctx.io.out(
        next
          ? "Dashboard is now public (no API key required).\n"
          : "Dashboard now requires API key authentication.\n",
      );
      await applyToServer(ctx, flags);
    }),
  );
  return dashboard;
}
