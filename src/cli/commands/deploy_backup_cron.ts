import { Command } from "commander";
import { loadConfig } from "../../config/load.ts";
import { absolutePath, backupDir, cronLogPath, joinPath } from "../../config/paths.ts";
import { CliError } from "../../core/errors.ts";
import { cronBlock, cronEscape } from "../../ops/crontab.ts";
import { BACKUP_SCHEDULE, BACKUP_SCRIPT } from "../../ops/deploy_files.ts";
import { isDirectory } from "../../ops/env.ts";
import { shellLine } from "../../ops/launcher.ts";
import type { CliContext } from "../context.ts";
import {
  onPath,
  refuseRootForOther,
  type ResolvedTarget,
  resolveTarget,
  writeOwnedFile,
} from "./_deploy.ts";
import { editCrontab, ensureUserDir } from "./deploy_cron.ts";
import { deployProductionBackup } from "./deploy_backup_cron_production.ts";

/** Flags of `deploy backup-cron`. */
export interface DeployBackupFlags {
  install?: boolean;
  uninstall?: boolean;
  production?: boolean;
  user?: string;
  script?: string;
}

function defaultScript(ctx: CliContext, target: ResolvedTarget): string {
  return ctx.env.uid === 0
    ? "/usr/local/bin/eggpool-backup"
    : joinPath(target.user.home, ".local/bin/eggpool-backup");
}

async function backupLine(
  ctx: CliContext,
  target: ResolvedTarget,
  script: string,
): Promise<string> {
  const loaded = await loadConfig(target.configPath, { env: (n) => target.env.get(n) });
  const db = absolutePath(loaded.config.database.path, ctx.env.cwd);
  const dir = backupDir(target.env, isDirectory);
  const cmd = `${shellLine([script, target.configPath, db, dir])} >> ${
    shellLine([cronLogPath(target.env)])
  } 2>&1`;
  return `${BACKUP_SCHEDULE} ${cronEscape(cmd)}`;
}

function removeIfOurs(path: string): boolean {
  try {
    if (Deno.readTextFileSync(path) !== BACKUP_SCRIPT) return false;
    Deno.removeSync(path);
    return true;
  } catch {
    return false;
  }
}

/** `deploy backup-cron`: a daily backup of the config and database via deploy/eggpool-backup. */
export async function deployBackupCron(ctx: CliContext, flags: DeployBackupFlags): Promise<void> {
  if (flags.install && flags.uninstall) {
    throw new CliError("choose one of --install and --uninstall");
  }
  if (flags.production) return deployProductionBackup(ctx, flags);
  const target = resolveTarget(ctx, flags.user);
  const script = flags.script === undefined
    ? defaultScript(ctx, target)
    : absolutePath(flags.script, ctx.env.cwd);
  if (flags.uninstall) {
    refuseRootForOther(ctx, target);
    const changed = await editCrontab(target, "backup", undefined);
    ctx.io.out(
      changed
        ? "Removed the EggPool backup from the crontab.\n"
        : "No EggPool backup in the crontab; nothing changed.\n",
    );
    if (removeIfOurs(script)) ctx.io.out(`Removed ${script}\n`);
    return;
  }
  const block = cronBlock("backup", "deploy backup-cron", [await backupLine(ctx, target, script)]);
  if (!onPath("sqlite3", ctx.env)) {
    ctx.io.err(
      "warning: sqlite3 is not installed; the backup needs it (Debian: apt-get install sqlite3)\n",
    );
  }
  if (!flags.install) {
    ctx.io.out(`== Backup cron block for ${target.user.name} ==\n`);
    ctx.io.out(`Install the script: install -m 0755 deploy/eggpool-backup ${script}\n`);
    ctx.io.out(
      `Then add this with 'crontab -e' (or run 'eggpool deploy backup-cron --install'):\n\n${block}`,
    );
    return;
  }
  refuseRootForOther(ctx, target);
  writeOwnedFile(script, BACKUP_SCRIPT, {
    mode: 0o755,
    owner: target.other ? target.user : undefined,
  });
  ensureUserDir(cronLogPath(target.env).replace(/\/[^/]+$/, ""), target);
  const changed = await editCrontab(target, "backup", block);
  ctx.io.out(`Installed ${script}\n`);
  ctx.io.out(
    changed
      ? `Installed the EggPool backup in ${target.user.name}'s crontab (daily at 02:00, 30 days kept).\n`
      : `The EggPool backup is already installed for ${target.user.name}; nothing changed.\n`,
  );
}

/** Adds `deploy backup-cron` to `deploy`. */
export function addDeployBackupCron(deploy: Command, ctx: CliContext): void {
  deploy.command("backup-cron")
    .description("print, install or remove a daily backup of the config and database")
    .option("--install", "install the backup script and add the cron block")
    .option("--uninstall", "remove the cron block (and the script when unchanged)")
    .option("--production", "the dedicated-user layout: /etc/cron.d/eggpool-backup (root)")
    .option("--user <name>", "whose crontab (default: $SUDO_USER, else you)")
    .option(
      "--script <path>",
      "where the backup script goes (default: /usr/local/bin or ~/.local/bin)",
    )
    .action((flags: DeployBackupFlags) => deployBackupCron(ctx, flags));
}
