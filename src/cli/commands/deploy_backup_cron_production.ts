/** `deploy backup-cron --production`: the dedicated-user layout's backup (spec 07 §4.4). */
import { CliError } from "../../core/errors.ts";
import { BACKUP_SCHEDULE, BACKUP_SCRIPT, PRODUCTION } from "../../ops/deploy_files.ts";
import type { CliContext } from "../context.ts";
import { writeOwnedFile } from "./_deploy.ts";

/** Runs as the eggpool user, which can read /etc/eggpool (group) and write /var/backups/eggpool. */
function productionCronFile(): string {
  return [
    "# EggPool daily backup (managed by eggpool deploy backup-cron --production)",
    "SHELL=/bin/sh",
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    `${BACKUP_SCHEDULE} eggpool /usr/local/bin/eggpool-backup ${PRODUCTION.config} ${PRODUCTION.database} ${PRODUCTION.backups}`,
  ].join("\n") + "\n";
}

/** `deploy backup-cron --production`: /etc/cron.d/eggpool-backup running as the eggpool user (root). */
export function deployProductionBackup(
  ctx: CliContext,
  flags: { install?: boolean; uninstall?: boolean },
): void {
  if (!flags.install && !flags.uninstall) {
    ctx.io.out(`== Production backup (${PRODUCTION.cronFile}) ==\n${productionCronFile()}\n`);
    ctx.io.out(
      `The script goes to /usr/local/bin/eggpool-backup (mode 755); see deploy/eggpool-backup.\n`,
    );
    return;
  }
  if (ctx.env.uid !== 0) throw new CliError("the production backup needs root: run it with sudo");
  if (flags.uninstall) {
    for (const p of [PRODUCTION.cronFile, "/usr/local/bin/eggpool-backup"]) {
      try {
        Deno.removeSync(p);
        ctx.io.out(`Removed ${p}\n`);
      } catch { /* not installed */ }
    }
    return;
  }
  writeOwnedFile("/usr/local/bin/eggpool-backup", BACKUP_SCRIPT, { mode: 0o755 });
  writeOwnedFile(PRODUCTION.cronFile, productionCronFile(), { mode: 0o644 });
  ctx.io.out(
    `Installed /usr/local/bin/eggpool-backup and ${PRODUCTION.cronFile} (daily at 02:00).\n`,
  );
}
