import { Command } from "commander";
import { assertCredentials, loadConfig } from "../../config/load.ts";
import { dataDir, envFileCandidates, joinPath } from "../../config/paths.ts";
import { CliError, ConfigError } from "../../core/errors.ts";
import { renderUserUnit } from "../../ops/deploy_files.ts";
import { isFile } from "../../ops/env.ts";
import { launcherArgv } from "../../ops/launcher.ts";
import { stopServer } from "../../ops/stop.ts";
import { DEFAULT_STOP_TIMEOUT_S } from "./stop.ts";
import { configuredGraceS, withStopTimeout } from "./deploy_systemd_stop.ts";
import type { CliContext } from "../context.ts";
import {
  printFileSnippet,
  type ResolvedTarget,
  resolveTarget,
  runSteps,
  writeOwnedFile,
} from "./_deploy.ts";
import { installProductionUnit, printProductionUnit } from "./deploy_systemd_production.ts";

/** Flags of `deploy systemd`. */
export interface DeploySystemdFlags {
  install?: boolean;
  production?: boolean;
  asRoot?: boolean;
  user?: string;
}

/** `~/.config/systemd/user/eggpool.service` of the target (honouring its `$XDG_CONFIG_HOME`). */
export function userUnitPath(target: ResolvedTarget): string {
  const base = target.env.get("XDG_CONFIG_HOME") || joinPath(target.user.home, ".config");
  return joinPath(base, "systemd/user/eggpool.service");
}

/** The personal unit for the target user, with absolute paths of this eggpool and its config. */
export function personalUnit(target: ResolvedTarget, asRoot: boolean, graceS: number): string {
  return withStopTimeout(
    renderUserUnit({
      launcher: launcherArgv(),
      configPath: target.configPath,
      workingDir: dataDir(target.env),
      envFile: envFileCandidates(target.env, target.configPath).find(isFile),
      asRoot,
      user: target.user.name,
    }),
    graceS,
  );
}

function targetGraceS(target: ResolvedTarget): Promise<number> {
  return configuredGraceS(target.configPath, (n) => target.env.get(n));
}

function systemctl(target: ResolvedTarget): string[] {
  return target.sudo
    ? ["systemctl", "--user", `--machine=${target.user.name}@`]
    : ["systemctl", "--user"];
}

async function assertConfigReady(target: ResolvedTarget): Promise<void> {
  try {
    assertCredentials(await loadConfig(target.configPath, { env: (n) => target.env.get(n) }));
  } catch (error) {
    if (error instanceof ConfigError) {
      throw new CliError(
        `the configuration is not ready, so nothing was installed:\n${error.message}`,
      );
    }
    throw error;
  }
}

async function installPersonal(
  ctx: CliContext,
  target: ResolvedTarget,
  flags: DeploySystemdFlags,
): Promise<void> {
  if (target.user.uid === 0 && !flags.asRoot) {
    throw new CliError(
      "refusing to install a personal unit for root; use --production for a system service, " +
        "or pass --as-root if you really mean it",
    );
  }
  await assertConfigReady(target);
  const stopped = await stopServer(target.env, DEFAULT_STOP_TIMEOUT_S * 1000);
  if (stopped.kind === "stopped") {
    ctx.io.out(`Stopped the running server (PID ${stopped.pid}) so systemd can own it.\n`);
  }
  if (stopped.kind === "timeout") {
    throw new CliError(`the running server (PID ${stopped.pid}) did not stop`);
  }
  const owner = target.other ? target.user : undefined;
  const work = dataDir(target.env);
  Deno.mkdirSync(work, { recursive: true, mode: 0o700 });
  if (owner && Deno.uid() === 0) Deno.chownSync(work, owner.uid, owner.gid);
  const path = userUnitPath(target);
  const unit = personalUnit(target, flags.asRoot === true, await targetGraceS(target));
  writeOwnedFile(path, unit, { mode: 0o644, owner });
  ctx.io.out(`Wrote ${path}\n`);
  const base = systemctl(target);
  const ran = await runSteps(ctx, [
    [...base, "daemon-reload"],
    [...base, "enable", "--now", "eggpool.service"],
  ]);
  if (!ran) return;
  ctx.io.out(
    `EggPool now runs as a systemd user service. Check it with 'systemctl --user status eggpool'.\n` +
      `To start it at boot without logging in: sudo loginctl enable-linger ${target.user.name}\n`,
  );
}

/** `deploy systemd`: print or install the unit (personal user service, or --production). */
export async function deploySystemd(ctx: CliContext, flags: DeploySystemdFlags): Promise<void> {
  if (flags.production) {
    if (flags.install) await installProductionUnit(ctx);
    else await printProductionUnit(ctx);
    return;
  }
  const target = resolveTarget(ctx, flags.user);
  if (flags.install) return await installPersonal(ctx, target, flags);
  printFileSnippet(ctx, {
    title: `systemd user unit for ${target.user.name}`,
    path: userUnitPath(target),
    content: personalUnit(target, flags.asRoot === true, await targetGraceS(target)),
    sudo: false,
    steps: [
      "systemctl --user daemon-reload",
      "systemctl --user enable --now eggpool",
      "systemctl --user status eggpool",
      `sudo loginctl enable-linger ${target.user.name}    # start at boot without a login`,
    ],
  });
  ctx.io.out("For a dedicated system user instead: eggpool deploy systemd --production\n");
}

/** Adds `deploy systemd` to `deploy`. */
export function addDeploySystemd(deploy: Command, ctx: CliContext): void {
  deploy.command("systemd")
    .description(
      "print or install the systemd unit (a user service; --production: system user eggpool)",
    )
    .option("--install", "write the unit, reload systemd and enable --now")
    .option("--production", "the dedicated-user layout in /etc/systemd/system (root)")
    .option("--as-root", "allow a unit that runs the server as root")
    .option("--user <name>", "whose unit (default: $SUDO_USER, else you)")
    .action((flags: DeploySystemdFlags) => deploySystemd(ctx, flags));
}
