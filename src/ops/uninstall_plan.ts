/**
 * What `uninstall` (spec 07 §5) would remove, found before anything is
 * touched so the operator reads the whole plan first. Backups are never in
 * it; a source checkout or bundle is never deleted (only named).
 */
import type { PathEnv } from "../config/paths.ts";
import { backupDir, configDir, dataDir, dirName, joinPath, stateDir } from "../config/paths.ts";
import { type CronBlockKind, CrontabError, hasCronBlock, readCrontab } from "./crontab.ts";
import { isDirectory } from "./env.ts";
import type { InstallKind } from "./install_kind.ts";
import { pathExists } from "./env.ts";

/**
 * Prefix for the system paths (`/etc`, `/usr/local`) the plan looks at;
 * tests point it at a temp folder so they never touch the real system.
 */
export const SYSTEM_ROOT_ENV = "EGGPOOL_SYSTEM_ROOT";

/** One file or folder to remove. */
export interface PlanItem {
  what: string;
  path: string;
}

/** A deploy artifact (`deploy cron`, `deploy systemd`, `deploy logrotate`, `deploy backup-cron`). */
export type Artifact =
  | { kind: "cron"; blocks: CronBlockKind[] }
  | {
    kind: "file";
    what: string;
    path: string;
    /** Commands to run before removing it (stop and disable a unit). */
    before: string[][];
    /** Commands to run after (daemon-reload). */
    after: string[][];
  };

/** The whole plan. */
export interface UninstallPlan {
  install: InstallKind;
  remove: PlanItem[];
  keep: Array<PlanItem & { why: string }>;
  artifacts: Artifact[];
  /** Something could not be checked (e.g. no `crontab` command); shown with the plan. */
  notes: string[];
  backups: string;
}

/** Flags that shape the plan. */
export interface PlanFlags {
  keepData?: boolean;
  keepConfig?: boolean;
}

async function findArtifacts(env: PathEnv, notes: string[]): Promise<Artifact[]> {
  const root = env.get(SYSTEM_ROOT_ENV) ?? "";
  const found: Artifact[] = [];
  try {
    const table = await readCrontab();
    const blocks = (["watchdog", "backup"] as const).filter((k) => hasCronBlock(table, k));
    if (blocks.length > 0) found.push({ kind: "cron", blocks });
  } catch (error) {
    if (!(error instanceof CrontabError)) throw error;
    notes.push(`crontab not checked: ${error.message}`);
  }
  const userConfig = env.get("XDG_CONFIG_HOME") || joinPath(env.home, ".config");
  const files: Array<Omit<Extract<Artifact, { kind: "file" }>, "kind">> = [
    {
      what: "systemd user unit",
      path: joinPath(userConfig, "systemd/user/eggpool.service"),
      before: [["systemctl", "--user", "disable", "--now", "eggpool.service"]],
      after: [["systemctl", "--user", "daemon-reload"]],
    },
    {
      what: "systemd system unit",
      path: `${root}/etc/systemd/system/eggpool.service`,
      before: [["systemctl", "disable", "--now", "eggpool.service"]],
      after: [["systemctl", "daemon-reload"]],
    },
    { what: "logrotate file", path: `${root}/etc/logrotate.d/eggpool`, before: [], after: [] },
    { what: "backup cron file", path: `${root}/etc/cron.d/eggpool-backup`, before: [], after: [] },
    {
      what: "backup script",
      path: `${root}/usr/local/bin/eggpool-backup`,
      before: [],
      after: [],
    },
    {
      what: "backup script",
      path: joinPath(env.home, ".local/bin/eggpool-backup"),
      before: [],
      after: [],
    },
  ];
  for (const f of files) if (pathExists(f.path)) found.push({ kind: "file", ...f });
  return found;
}

/** Builds the plan for `configPath` and the database at `dbPath`. */
export async function planUninstall(
  env: PathEnv,
  paths: { install: InstallKind; configPath: string; dbPath: string },
  flags: PlanFlags,
): Promise<UninstallPlan> {
  const notes: string[] = [];
  const remove: PlanItem[] = [];
  const keep: UninstallPlan["keep"] = [];
  const backups = backupDir(env, isDirectory);
  const add = (item: PlanItem, keptBy: string | undefined) => {
    if (!pathExists(item.path)) return;
    if (keptBy) keep.push({ ...item, why: keptBy });
    else remove.push(item);
  };
  const { install } = paths;
  if (install.kind === "binary") add({ what: "binary", path: install.path }, undefined);
  else {
    keep.push({
      what: install.kind === "source" ? "source checkout" : "bundle",
      path: install.dir,
      why: "not deleted by uninstall: remove the folder yourself",
    });
  }
  const keepConfig = flags.keepConfig ? "--keep-config" : undefined;
  add({ what: "config", path: paths.configPath }, keepConfig);
  add({ what: "env", path: joinPath(dirName(paths.configPath), ".env") }, keepConfig);
  const keepData = flags.keepData ? "--keep-data" : undefined;
  for (const suffix of ["", "-wal", "-shm"]) {
    add({ what: "database", path: `${paths.dbPath}${suffix}` }, keepData);
  }
  const holdsBackups = (dir: string) => backups === dir || backups.startsWith(`${dir}/`);
  for (const [what, dir] of [["data dir", dataDir(env)], ["state dir", stateDir(env)]]) {
    add({ what, path: dir }, keepData ?? (holdsBackups(dir) ? "it holds the backups" : undefined));
  }
  if (pathExists(backups)) keep.push({ what: "backups", path: backups, why: "never deleted" });
  return {
    install,
    remove,
    keep,
    artifacts: await findArtifacts(env, notes),
    notes,
    backups,
  };
}

/** The config folder, removed only when uninstall leaves it empty. */
export function emptyConfigDir(env: PathEnv, configPath: string): string | undefined {
  const dir = dirName(configPath);
  if (dir !== configDir(env)) return undefined;
  try {
    return [...Deno.readDirSync(dir)].length === 0 ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Shell commands that remove `a` by hand. */
export function manualSteps(a: Artifact): string[] {
  if (a.kind === "cron") {
    return ["crontab -l | sed '/^# BEGIN EggPool/,/^# END EggPool/d' | crontab -"];
  }
  const sudo = a.path.startsWith("/etc/") || a.path.startsWith("/usr/") ? "sudo " : "";
  return [
    ...a.before.map((c) => `${sudo}${c.join(" ")}`),
    `${sudo}rm ${a.path}`,
    ...a.after.map((c) => `${sudo}${c.join(" ")}`),
  ];
}
