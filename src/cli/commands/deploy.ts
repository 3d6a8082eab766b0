import { Command } from "commander";
import type { CliContext } from "../context.ts";
import { addDeployBackupCron } from "./deploy_backup_cron.ts";
import { addDeployCron, deployCron } from "./deploy_cron.ts";
import { addDeployLogrotate, deployLogrotate } from "./deploy_logrotate.ts";
import { addDeploySystemd, deploySystemd } from "./deploy_systemd.ts";

const RULE = "=".repeat(72);

/** `eggpool deploy …`: systemd unit, cron watchdog, backup cron, logrotate (spec 07 §4). */
export function deployCommand(ctx: CliContext): Command {
  const deploy = new Command("deploy").description(
    "print or install what keeps EggPool running on a Pi (systemd, cron, logrotate, backups)",
  );
  addDeploySystemd(deploy, ctx);
  addDeployCron(deploy, ctx);
  addDeployBackupCron(deploy, ctx);
  addDeployLogrotate(deploy, ctx);
  deploy.command("all")
    .description("systemd, logrotate and the cron watchdog in one go")
    .option("--install", "install each of them")
    .option("--as-root", "allow running the server as root")
    .action(async (flags: { install?: boolean; asRoot?: boolean }) => {
      await deploySystemd(ctx, { install: flags.install, asRoot: flags.asRoot });
      ctx.io.out(`${RULE}\n`);
      await deployLogrotate(ctx, { install: flags.install });
      ctx.io.out(`${RULE}\n`);
      await deployCron(ctx, { install: flags.install, interval: 5, asRoot: flags.asRoot });
      ctx.io.out(`${RULE}\nBackups are set up separately: eggpool deploy backup-cron --install\n`);
    });
  return deploy;
}
