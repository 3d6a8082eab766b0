/** `deploy systemd --production`: the dedicated `eggpool` system user layout (spec 07 §4.1). */
import { CliError } from "../../core/errors.ts";
import { PRODUCTION, PRODUCTION_UNIT } from "../../ops/deploy_files.ts";
import { isFile } from "../../ops/env.ts";
import { launcherArgv, shellLine } from "../../ops/launcher.ts";
import { productionExec, withProductionExec } from "../../ops/production_exec.ts";
import { lookupUser } from "../../ops/users.ts";
import type { UserInfo } from "../../ops/users.ts";
import type { CliContext } from "../context.ts";
import { printFileSnippet, runStep, runSteps, writeOwnedFile } from "./_deploy.ts";
import { EXAMPLE_CONFIG } from "./init_config.ts";
import { configuredGraceS, withStopTimeout } from "./deploy_systemd_stop.ts";

const SYSTEM_USER = "eggpool";

/** Prints the production unit with the steps around it. */
export async function printProductionUnit(ctx: CliContext): Promise<void> {
  const exec = productionExec(launcherArgv(), PRODUCTION.config);
  for (const p of exec.problems) ctx.io.err(`warning: ${p}; ${REACH_HINT}\n`);
  printFileSnippet(ctx, {
    title: "systemd system unit (dedicated user eggpool)",
    path: PRODUCTION.unitPath,
    content: await productionUnit(ctx, exec),
    sudo: true,
    steps: [
      "sudo useradd --system --user-group --home-dir /var/lib/eggpool --shell /usr/sbin/nologin eggpool",
      "sudo install -d -o eggpool -g eggpool -m 0750 /var/lib/eggpool /var/log/eggpool /var/backups/eggpool",
      `sudo install -d -m 0755 /etc/eggpool    # then put config.toml and env there (root:eggpool, 0640)`,
      "sudo systemctl daemon-reload",
      "sudo systemctl enable --now eggpool",
    ],
  });
}

function ownedDir(path: string, mode: number, owner?: UserInfo): void {
  Deno.mkdirSync(path, { recursive: true, mode });
  Deno.chmodSync(path, mode);
  if (owner) Deno.chownSync(path, owner.uid, owner.gid);
}

function seedFile(path: string, content: string, group: UserInfo): boolean {
  if (isFile(path)) return false;
  Deno.writeTextFileSync(path, content, { mode: 0o640 });
  Deno.chownSync(path, 0, group.gid);
  return true;
}

async function ensureSystemUser(ctx: CliContext): Promise<UserInfo> {
  const existing = lookupUser({ name: SYSTEM_USER });
  if (existing) return existing;
  const r = await runStep(ctx, [
    "useradd",
    "--system",
    "--user-group",
    "--home-dir",
    "/var/lib/eggpool",
    "--shell",
    "/usr/sbin/nologin",
    SYSTEM_USER,
  ]);
  const created = lookupUser({ name: SYSTEM_USER });
  if (!r.ok || !created) {
    throw new CliError(
      `cannot create the system user '${SYSTEM_USER}'${r.output ? `: ${r.output}` : ""}`,
    );
  }
  return created;
}

/** What to do when the service user cannot reach the program. */
const REACH_HINT =
  `copy the program somewhere it can (sudo install -m 0755 "$(command -v eggpool)" ${PRODUCTION.binary}) and run that copy's deploy`;

/**
 * deploy/eggpool.service running this very program, with a `TimeoutStopSec`
 * long enough for /etc/eggpool/config.toml's grace.
 */
async function productionUnit(
  ctx: CliContext,
  exec: ReturnType<typeof productionExec>,
): Promise<string> {
  return withStopTimeout(
    withProductionExec(PRODUCTION_UNIT, exec),
    await configuredGraceS(PRODUCTION.config, (n) => ctx.env.get(n)),
  );
}

/** Creates the user, folders and seed files, writes the unit and enables it (root only). */
export async function installProductionUnit(ctx: CliContext): Promise<void> {
  if (ctx.env.uid !== 0) throw new CliError("the production layout needs root: run it with sudo");
  const exec = productionExec(launcherArgv(), PRODUCTION.config);
  if (exec.problems.length > 0) {
    throw new CliError(`${exec.problems.join("; ")}: ${REACH_HINT}; nothing was installed`);
  }
  const user = await ensureSystemUser(ctx);
  ownedDir("/var/lib/eggpool", 0o750, user);
  ownedDir("/var/lib/eggpool/state", 0o700, user);
  for (const dir of ["/var/log/eggpool", PRODUCTION.backups]) ownedDir(dir, 0o750, user);
  ownedDir("/etc/eggpool", 0o755);
  if (seedFile(PRODUCTION.config, EXAMPLE_CONFIG, user)) {
    ctx.io.out(`Created ${PRODUCTION.config} from the example\n`);
  }
  if (seedFile("/etc/eggpool/env", "# KEY=value lines for the service (api keys)\n", user)) {
    ctx.io.out("Created /etc/eggpool/env\n");
  }
  writeOwnedFile(PRODUCTION.unitPath, await productionUnit(ctx, exec), { mode: 0o644 });
  ctx.io.out(`Wrote ${PRODUCTION.unitPath}; it runs ${exec.execStart}\n`);
  await runSteps(ctx, [["systemctl", "daemon-reload"], ["systemctl", "enable", "eggpool.service"]]);
  ctx.io.out(
    [
      "Next:",
      `  1. Edit ${PRODUCTION.config} and /etc/eggpool/env (keys).`,
      `  2. sudo -u eggpool ${shellLine([...exec.argv, "check-config"])}`,
      "  3. sudo systemctl start eggpool && systemctl status eggpool",
      "",
    ].join("\n"),
  );
}
