import { Command, InvalidArgumentError } from "commander";
import { cronLogPath } from "../../config/paths.ts";
import { CliError } from "../../core/errors.ts";
import {
  cronBlock,
  cronEscape,
  CrontabError,
  installCronBlock,
  readCrontab,
  removeCronBlocks,
  UnterminatedBlockError,
  writeCrontab,
} from "../../ops/crontab.ts";
import type { CronBlockKind } from "../../ops/crontab.ts";
import { launcherArgv, shellLine } from "../../ops/launcher.ts";
import type { CliContext } from "../context.ts";
import { refuseRootForOther, type ResolvedTarget, resolveTarget } from "./_deploy.ts";

/** Default watchdog period in minutes (spec 07 §4.3). */
const DEFAULT_INTERVAL_MIN = 5;

/** Flags of `deploy cron`. */
export interface DeployCronFlags {
  install?: boolean;
  uninstall?: boolean;
  interval: number;
  user?: string;
  asRoot?: boolean;
}

function parseInterval(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 59) {
    throw new InvalidArgumentError("the interval must be a whole number of minutes from 1 to 59");
  }
  return n;
}

/** The watchdog block: `@reboot` and every N minutes, absolute paths, output to cron.log. */
export function watchdogBlock(target: ResolvedTarget, interval: number, asRoot: boolean): string {
  const argv = [...launcherArgv(), "--config", target.configPath, "ensure-running"];
  if (asRoot) argv.push("--as-root");
  const command = cronEscape(`${shellLine(argv)} >> ${shellLine([cronLogPath(target.env)])} 2>&1`);
  return cronBlock("watchdog", "deploy cron", [
    `@reboot ${command}`,
    `*/${interval} * * * * ${command}`,
  ]);
}

/**
 * Installs or removes one managed block in the target's crontab; returns
 * false when the crontab already had the wanted content.
 */
export async function editCrontab(
  target: ResolvedTarget,
  kind: CronBlockKind,
  block: string | undefined,
): Promise<boolean> {
  const user = target.other ? target.user.name : undefined;
  try {
    const before = await readCrontab(user);
    const after = block === undefined
      ? removeCronBlocks(before, kind)
      : installCronBlock(before, kind, block);
    if (after === before) return false;
    await writeCrontab(after, user);
    return true;
  } catch (error) {
    if (error instanceof UnterminatedBlockError || error instanceof CrontabError) {
      throw new CliError(error.message);
    }
    throw error;
  }
}

/** `deploy cron`: print, install or remove the watchdog block. */
export async function deployCron(ctx: CliContext, flags: DeployCronFlags): Promise<void> {
  if (flags.install && flags.uninstall) {
    throw new CliError("choose one of --install and --uninstall");
  }
  const target = resolveTarget(ctx, flags.user);
  const block = watchdogBlock(target, flags.interval, flags.asRoot === true);
  if (!flags.install && !flags.uninstall) {
    ctx.io.out(
      [
        `== Watchdog cron block for ${target.user.name} ==`,
        "Install it with 'eggpool deploy cron --install', or add it by hand with 'crontab -e':",
        "",
        block,
      ].join("\n"),
    );
    return;
  }
  refuseRootForOther(ctx, target);
  if (flags.uninstall) {
    const changed = await editCrontab(target, "watchdog", undefined);
    ctx.io.out(
      changed
        ? `Removed the EggPool watchdog from ${target.user.name}'s crontab.\n`
        : `No EggPool watchdog in ${target.user.name}'s crontab; nothing changed.\n`,
    );
    return;
  }
  ensureUserDir(dirOf(cronLogPath(target.env)), target);
  const changed = await editCrontab(target, "watchdog", block);
  ctx.io.out(
    changed
      ? `Installed the EggPool watchdog in ${target.user.name}'s crontab ` +
        `(@reboot and every ${flags.interval} min; output in ${cronLogPath(target.env)}).\n`
      : `The EggPool watchdog is already installed for ${target.user.name}; nothing changed.\n`,
  );
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

/** Creates a folder the target user's cron output goes to, owned by that user. */
export function ensureUserDir(dir: string, target: ResolvedTarget): void {
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (target.other && Deno.uid() === 0) Deno.chownSync(dir, target.user.uid, target.user.gid);
}

/** Adds `deploy cron` to `deploy`. */
export function addDeployCron(deploy: Command, ctx: CliContext): void {
  deploy.command("cron")
    .description(
      "print, install or remove the cron watchdog (@reboot + every N min ensure-running)",
    )
    .option("--install", "add the block to the crontab (replacing an older one)")
    .option("--uninstall", "remove the block from the crontab")
    .option(
      "--interval <minutes>",
      "minutes between checks, 1-59",
      parseInterval,
      DEFAULT_INTERVAL_MIN,
    )
    .option("--user <name>", "whose crontab (default: $SUDO_USER, else you)")
    .option("--as-root", "let the watchdog run the server as root")
    .action((flags: DeployCronFlags) => deployCron(ctx, flags));
}
