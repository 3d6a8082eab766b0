import { Command } from "commander";
import { loadConfig } from "../../config/load.ts";
import { absolutePath, defaultDatabasePath } from "../../config/paths.ts";
import { CliError } from "../../core/errors.ts";
import {
  CrontabError,
  readCrontab,
  removeCronBlocks,
  UnterminatedBlockError,
  writeCrontab,
} from "../../ops/crontab.ts";
import { isFile } from "../../ops/env.ts";
import { detectInstall } from "../../ops/install_kind.ts";
import { stopServer } from "../../ops/stop.ts";
import {
  type Artifact,
  emptyConfigDir,
  manualSteps,
  planUninstall,
  type UninstallPlan,
} from "../../ops/uninstall_plan.ts";
import type { CliContext } from "../context.ts";
import { canAsk, confirmOrFlag } from "./_ask.ts";
import { runStep } from "./_deploy.ts";
import { DEFAULT_STOP_TIMEOUT_S, reportStop } from "./stop.ts";
import { pathExists } from "../../ops/env.ts";

/** Flags of `uninstall`. */
export interface UninstallFlags {
  yes?: boolean;
  keepData?: boolean;
  keepConfig?: boolean;
  deployArtifacts?: boolean;
}

function describe(a: Artifact): string {
  return a.kind === "cron" ? `EggPool ${a.blocks.join(" and ")} block(s) in your crontab` : a.path;
}

function printPlan(ctx: CliContext, plan: UninstallPlan, flags: UninstallFlags): void {
  const out = (s: string) => ctx.io.out(`${s}\n`);
  const where = plan.install.kind === "binary" ? plan.install.path : plan.install.dir;
  out(`EggPool uninstall plan (install: ${plan.install.kind}, ${where})`);
  for (const r of plan.remove) out(`  remove  ${r.what.padEnd(9)} ${r.path}`);
  for (const k of plan.keep) out(`  keep    ${k.what.padEnd(9)} ${k.path} (${k.why})`);
  for (const n of plan.notes) out(`  note: ${n}`);
  if (plan.artifacts.length === 0) return;
  out(
    flags.deployArtifacts
      ? "Deploy artifacts to remove (--deploy-artifacts):"
      : "Deploy artifacts left in place (pass --deploy-artifacts to remove them, or run):",
  );
  for (const a of plan.artifacts) {
    out(`  ${describe(a)}`);
    if (!flags.deployArtifacts) { for (const step of manualSteps(a)) out(`      ${step}`); }
  }
  if (!flags.deployArtifacts && plan.artifacts.some((a) => a.kind === "cron")) {
    out("  (the watchdog block would keep trying to start the removed program)");
  }
}

function removePath(ctx: CliContext, path: string): void {
  try {
    Deno.removeSync(path, { recursive: true });
    ctx.io.out(`Removed ${path}\n`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return; // inside a folder removed before
    ctx.io.err(`warning: cannot remove ${path}: ${(error as Error).message}\n`);
  }
}

async function removeArtifact(ctx: CliContext, a: Artifact, yes: boolean): Promise<void> {
  if (!yes && canAsk() && !(await confirmOrFlag(`Remove ${describe(a)}?`, false, ""))) return;
  if (a.kind === "cron") {
    try {
      const before = await readCrontab();
      const after = a.blocks.reduce((t, k) => removeCronBlocks(t, k), before);
      if (after !== before) await writeCrontab(after);
      ctx.io.out(`Removed the ${a.blocks.join(" and ")} block(s) from the crontab\n`);
    } catch (error) {
      if (!(error instanceof CrontabError || error instanceof UnterminatedBlockError)) throw error;
      ctx.io.err(`warning: crontab left as it was: ${error.message}\n`);
    }
    return;
  }
  for (const step of a.before) await runStep(ctx, step);
  removePath(ctx, a.path);
  for (const step of a.after) await runStep(ctx, step);
}

async function databasePath(ctx: CliContext, configPath: string): Promise<string> {
  if (!isFile(configPath)) return defaultDatabasePath(ctx.env);
  try {
    const loaded = await loadConfig(configPath, { env: (n) => ctx.env.get(n) });
    return absolutePath(loaded.config.database.path, ctx.env.cwd);
  } catch {
    return defaultDatabasePath(ctx.env); // a broken config still names no other database
  }
}

/** Prints the plan, confirms, stops the server and removes what the plan lists. */
export async function runUninstall(ctx: CliContext, flags: UninstallFlags): Promise<void> {
  const configPath = ctx.configPath().path;
  const install = detectInstall(ctx.env);
  const dbPath = await databasePath(ctx, configPath);
  const plan = await planUninstall(ctx.env, { install, configPath, dbPath }, flags);
  printPlan(ctx, plan, flags);
  const ok = await confirmOrFlag(
    "Remove EggPool as listed above?",
    flags.yes === true,
    "uninstall removes the files listed above: pass --yes to confirm (no terminal to ask on)",
  );
  if (!ok) {
    ctx.io.out("Nothing was removed.\n");
    return;
  }
  const stopped = await stopServer(ctx.env, DEFAULT_STOP_TIMEOUT_S * 1000);
  if (!reportStop(ctx, stopped, DEFAULT_STOP_TIMEOUT_S)) {
    throw new CliError("the server is still running; nothing was removed");
  }
  if (flags.deployArtifacts) {
    for (const a of plan.artifacts) await removeArtifact(ctx, a, flags.yes === true);
  }
  // The binary last: this process may be running from it.
  const binary = plan.remove.filter((r) => r.what === "binary");
  for (const r of plan.remove) if (r.what !== "binary") removePath(ctx, r.path);
  const configDirLeft = emptyConfigDir(ctx.env, configPath);
  if (configDirLeft !== undefined) removePath(ctx, configDirLeft);
  for (const r of binary) removePath(ctx, r.path);
  const remaining = plan.remove.filter((r) => pathExists(r.path)).map((r) => r.path);
  if (remaining.length > 0) {
    throw new CliError(`these are still there: ${remaining.join(", ")}`);
  }
  if (plan.install.kind !== "binary") {
    ctx.io.out(
      `The ${plan.install.kind === "source" ? "checkout" : "bundle"} in ${plan.install.dir} ` +
        "was left in place; delete it yourself (and 'deno uninstall --global eggpool' if " +
        "'deno task install' made an eggpool command).\n",
    );
  }
  ctx.io.out(`EggPool is uninstalled. Backups stay in ${plan.backups}.\n`);
}

/** `eggpool uninstall [--yes] [--keep-data] [--keep-config] [--deploy-artifacts]` (spec 07 §5). */
export function uninstallCommand(ctx: CliContext): Command {
  return new Command("uninstall")
    .description("remove the binary, config and data (never the backups), printing the plan first")
    .option("-y, --yes", "do not ask")
    .option("--keep-data", "keep the database, data and state folders")
    .option("--keep-config", "keep config.toml and .env")
    .option(
      "--deploy-artifacts",
      "also remove cron blocks, systemd units, logrotate and backup files",
    )
    .action((flags: UninstallFlags) => runUninstall(ctx, flags));
}
