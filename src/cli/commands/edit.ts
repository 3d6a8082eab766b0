import { Command } from "commander";
import { CliError } from "../../core/errors.ts";
import type { CliContext } from "../context.ts";
import {
  type ApplyFlags,
  applyToServer,
  checkFile,
  describe,
  readConfigText,
  withApplyFlags,
  writeAtomic,
} from "./_config_edit.ts";
import { canPrompt, choose } from "./_prompt.ts";

/** Editors tried in order when neither `$EDITOR` nor `$VISUAL` is set (spec 07 §3). */
const FALLBACK_EDITORS = ["hx", "vim", "vi", "nano"];

/**
 * `eggpool edit`: opens the config in the operator's editor, validates the
 * result, and applies a valid change to a running server. An invalid result
 * can be reopened or the previous file restored; without a terminal the
 * previous file is restored and the command fails.
 */
export function editCommand(ctx: CliContext): Command {
  return withApplyFlags(
    new Command("edit").description(
      "edit the config in $EDITOR, validate it, and apply it (an invalid edit can be undone)",
    ),
  ).action(async (flags: ApplyFlags) => {
    const path = ctx.configPath().path;
    const previous = await readConfigText(path);
    const editor = findEditor(ctx);
    for (;;) {
      await runEditor(ctx, editor, path);
      const now = await readConfigText(path);
      if (now === previous) {
        ctx.io.out("No changes.\n");
        return;
      }
      const checked = await checkFile(path, (n) => ctx.env.get(n));
      if (checked.issues.length === 0) {
        ctx.io.out(`Config is valid: ${path}\n`);
        await applyToServer(ctx, flags);
        return;
      }
      ctx.io.err(`The edited config has ${checked.issues.length} problem(s):\n`);
      for (const i of checked.issues) ctx.io.err(`  - ${describe(i)}\n`);
      const next = canPrompt()
        ? await choose("What now?", [
          { value: "reopen", label: "Reopen the editor" },
          { value: "restore", label: "Restore the previous file" },
          { value: "keep", label: "Keep it as it is (the server keeps its old config)" },
        ], { what: "a choice", flags: "" })
        : "restore";
      if (next === "reopen") continue;
      if (next === "keep") {
        throw new CliError(`kept the invalid config at ${path}; the server was not changed`);
      }
      await writeAtomic(path, previous);
      throw new CliError(`restored the previous config at ${path}; nothing changed`);
    }
  });
}

/** `$EDITOR`, `$VISUAL`, or the first fallback on `PATH`, split into argv. */
function findEditor(ctx: CliContext): string[] {
  for (const name of ["EDITOR", "VISUAL"]) {
    const v = ctx.env.get(name)?.trim();
    if (v) return v.split(/\s+/);
  }
  const dirs = (ctx.env.get("PATH") ?? "").split(":").filter((d) => d !== "");
  for (const e of FALLBACK_EDITORS) {
    for (const d of dirs) {
      try {
        if (Deno.statSync(`${d}/${e}`).isFile) return [`${d}/${e}`];
      } catch {
        // Not here.
      }
    }
  }
  throw new CliError(
    `no editor found: set $EDITOR (none of ${FALLBACK_EDITORS.join(", ")} is on PATH)`,
  );
}

async function runEditor(ctx: CliContext, argv: string[], path: string): Promise<void> {
  let status: Deno.CommandStatus;
  try {
    status = await new Deno.Command(argv[0], {
      args: [...argv.slice(1), path],
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
  } catch (error) {
    throw new CliError(
      `cannot start the editor "${argv[0]}": ${error instanceof Error ? error.message : error}`,
    );
  }
  if (!status.success) {
    // The file is still checked: an editor may exit non-zero after saving.
    ctx.io.err(`warning: the editor exited with code ${status.code}\n`);
  }
}
