/**
 * `[backup]` (spec 02 §12, 05 §5–§6): with `enabled = true` the running
 * server writes the same archive as `eggpool backup` every `interval_s`,
 * the first `startup_delay_s` after start, into `directory` (default: the
 * backups folder of spec 02 §13), with the `.env` beside the config unless
 * `include_env = false`, and keeps the newest `retain_count` archives there.
 * A failed backup is logged and tried again at the next interval.
 */
import { absolutePath, backupDir, dirName, joinPath, type PathEnv } from "../config/paths.ts";
import { createBackup, listBackups } from "./backup_archive.ts";
import { isDirectory, isFile } from "./env.ts";
import { detectInstall, installLabel } from "./install_kind.ts";

/** The resolved `[backup]` table. */
export interface BackupSettings {
  readonly enabled: boolean;
  readonly interval_s: number;
  readonly retain_count: number;
  readonly startup_delay_s: number;
  readonly directory?: string;
  readonly include_env: boolean;
}

/** What {@linkcode startAutoBackup} needs. */
export interface AutoBackupOptions {
  settings: BackupSettings;
  configPath: string;
  dbPath: string;
  env: PathEnv;
  clock: () => number;
  log: (message: string) => void;
}

/** Schedules the backups; returns the function that stops them. Disabled: does nothing. */
export function startAutoBackup(o: AutoBackupOptions): () => void {
  if (!o.settings.enabled) return () => {};
  const dir = o.settings.directory !== undefined
    ? absolutePath(o.settings.directory, o.env.cwd)
    : backupDir(o.env, isDirectory);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let running = false;
  const once = async () => {
    if (running) return;
    running = true;
    try {
      const envPath = joinPath(dirName(o.configPath), ".env");
      const written = await createBackup(dir, {
        configPath: o.configPath,
        dbPath: o.dbPath,
        envPath: o.settings.include_env && isFile(envPath) ? envPath : undefined,
        installMethod: installLabel(detectInstall(o.env)),
      }, new Date(o.clock()));
      const pruned = prune(dir, o.settings.retain_count);
      o.log(
        `Automatic backup written: ${written.path}` +
          (pruned > 0 ? ` (${pruned} older removed, keeping ${o.settings.retain_count})` : ""),
      );
    } catch (error) {
      o.log(`Automatic backup failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      running = false;
    }
  };
  const schedule = (ms: number) => {
    if (stopped) return;
    const t = setTimeout(async () => {
      await once();
      schedule(o.settings.interval_s * 1000);
    }, ms);
    Deno.unrefTimer(t);
    timer = t;
  };
  schedule(o.settings.startup_delay_s * 1000);
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}

/** Removes all but the newest `keep` archives in `dir`; returns how many went. */
function prune(dir: string, keep: number): number {
  let removed = 0;
  for (const old of listBackups(dir).slice(keep)) {
    try {
      Deno.removeSync(old.path);
      removed++;
    } catch {
      // Gone already, or not ours to remove: the next pass tries again.
    }
  }
  return removed;
}
