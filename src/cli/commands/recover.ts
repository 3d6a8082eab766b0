import { Command } from "commander";
import { absolutePath, backupDir, dirName, joinPath } from "../../config/paths.ts";
import { CliError } from "../../core/errors.ts";
import {
  ArchiveError,
  type BackupListing,
  type BackupMeta,
  listBackups,
  MEMBER,
  verifyBackup,
} from "../../ops/backup_archive.ts";
import { isDirectory, isFile } from "../../ops/env.ts";
import { applyRestore, type RestoreTarget } from "../../ops/restore.ts";
import { stopServer } from "../../ops/stop.ts";
import { checkDatabaseFile } from "../../storage/snapshot.ts";
import type { CliContext } from "../context.ts";
import { canAsk, choose, confirmOrFlag } from "./_ask.ts";
import { DEFAULT_STOP_TIMEOUT_S, reportStop } from "./stop.ts";

/** Flags of `recover`. */
export interface RecoverFlags {
  yes?: boolean;
}

function listingLabel(b: BackupListing): string {
  const when = new Date(b.modifiedMs).toISOString().slice(0, 19).replace("T", " ");
  return `${when}   (${(b.bytes / 1024).toFixed(1)} KB)   ${b.name}`;
}

/** SOURCE as given (absolute, or relative to the working dir), else in the backup folder. */
function resolveSource(ctx: CliContext, source: string, dir: string): string {
  const direct = absolutePath(source, ctx.env.cwd);
  if (isFile(direct)) return direct;
  const inDir = absolutePath(source, dir);
  if (!source.startsWith("/") && isFile(inDir)) return inDir;
  throw new CliError(`backup not found: ${source} (looked at ${direct} and in ${dir})`);
}

async function pickSource(ctx: CliContext, dir: string): Promise<string | undefined> {
  const found = listBackups(dir);
  if (found.length === 0) {
    ctx.io.out(`No backups found in ${dir}.\n`);
    return undefined;
  }
  if (!canAsk()) {
    ctx.io.out(`Backups in ${dir} (newest first):\n`);
    for (const b of found) ctx.io.out(`  ${listingLabel(b)}\n`);
    throw new CliError(`name the backup to restore: eggpool recover ${found[0].name} --yes`);
  }
  return await choose(
    "Which backup?",
    found.map((b) => ({ value: b.path, label: listingLabel(b) })),
  );
}

function targetsOf(meta: BackupMeta, staged: string): RestoreTarget[] {
  const envPath = meta.envPath ?? joinPath(dirName(meta.configPath), ".env");
  const targets: RestoreTarget[] = [
    { from: joinPath(staged, MEMBER.config), to: meta.configPath },
  ];
  if (meta.members.includes(MEMBER.env)) {
    targets.push({ from: joinPath(staged, MEMBER.env), to: envPath });
  }
  if (meta.members.includes(MEMBER.db)) {
    targets.push({ from: joinPath(staged, MEMBER.db), to: meta.dbPath, database: true });
  }
  return targets;
}

/** Checks the archive and its database, then (confirmed) stops the server and restores. */
export async function runRecover(
  ctx: CliContext,
  source: string | undefined,
  flags: RecoverFlags,
): Promise<void> {
  const dir = backupDir(ctx.env, isDirectory);
  const path = source === undefined ? await pickSource(ctx, dir) : resolveSource(ctx, source, dir);
  if (path === undefined) return;
  const staged = await Deno.makeTempDir({ prefix: "eggpool-recover-" });
  try {
    let meta: BackupMeta;
    try {
      meta = await verifyBackup(path, staged);
    } catch (error) {
      if (!(error instanceof ArchiveError)) throw error;
      throw new CliError(`refusing ${path}: ${error.message}; nothing was changed`);
    }
    if (meta.members.includes(MEMBER.db)) {
      const check = checkDatabaseFile(joinPath(staged, MEMBER.db), true);
      if (check !== "ok") {
        throw new CliError(
          `refusing ${path}: its database fails PRAGMA integrity_check (${
            check.split("\n")[0]
          }); nothing was changed`,
        );
      }
    }
    const targets = targetsOf(meta, staged);
    ctx.io.out(`Backup ${path} (created ${meta.createdAt}) is intact. It restores:\n`);
    for (const t of targets) ctx.io.out(`  ${t.to}\n`);
    ctx.io.out("Current files are kept beside them as <name>.before-recover-<time>.\n");
    const ok = await confirmOrFlag(
      "Overwrite current configuration and database?",
      flags.yes === true,
      "recover replaces the config and database: pass --yes to confirm (no terminal to ask on)",
    );
    if (!ok) {
      ctx.io.out("Nothing was changed.\n");
      return;
    }
    const stopped = await stopServer(ctx.env, DEFAULT_STOP_TIMEOUT_S * 1000);
    if (!reportStop(ctx, stopped, DEFAULT_STOP_TIMEOUT_S)) {
      throw new CliError("the server is still running; nothing was changed");
    }
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
    const result = applyRestore(targets, stamp);
    for (const p of result.restored) ctx.io.out(`Restored ${p}\n`);
    for (const [from, kept] of result.kept) ctx.io.out(`Kept the previous ${from} as ${kept}\n`);
    ctx.io.out("Restore complete. Restart the server to load the new config.\n");
  } finally {
    await Deno.remove(staged, { recursive: true });
  }
}

/** `eggpool recover [SOURCE] [--yes]` (spec 07 §5, 05 §6). */
export function recoverCommand(ctx: CliContext): Command {
  return new Command("recover")
    .description("restore the config, .env and database from a backup archive")
    .argument("[source]", "archive path, or a name in the backup folder (default: choose)")
    .option("-y, --yes", "do not ask before replacing the current files")
    .action((source: string | undefined, flags: RecoverFlags) => runRecover(ctx, source, flags));
}
