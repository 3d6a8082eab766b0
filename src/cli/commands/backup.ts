import { Command } from "commander";
import { loadConfig } from "../../config/load.ts";
import { absolutePath, backupDir, dirName, joinPath } from "../../config/paths.ts";
import { CliError } from "../../core/errors.ts";
import { createBackup, type WrittenBackup } from "../../ops/backup_archive.ts";
import { isDirectory, isFile } from "../../ops/env.ts";
import { detectInstall, installLabel } from "../../ops/install_kind.ts";
import type { CliContext } from "../context.ts";

/** Spec 07 §5: when the default folder cannot be written, this one (under the working dir). */
const FALLBACK_DIR = "backups/eggpool";

function isWriteProblem(error: unknown): boolean {
  return error instanceof Deno.errors.PermissionDenied ||
    error instanceof Deno.errors.NotADirectory || error instanceof Deno.errors.AlreadyExists;
}

/** Writes a backup of the config, its `.env` and the database; prints what went in. */
export async function runBackup(ctx: CliContext, flags: { outputDir?: string }): Promise<string> {
  const configPath = ctx.configPath().path;
  if (!isFile(configPath)) {
    throw new CliError(`no config at ${configPath}: nothing to back up (see 'eggpool help')`);
  }
  const loaded = await loadConfig(configPath, { env: (n) => ctx.env.get(n) });
  const envPath = joinPath(dirName(configPath), ".env");
  const sources = {
    configPath,
    dbPath: absolutePath(loaded.config.database.path, ctx.env.cwd),
    envPath: isFile(envPath) ? envPath : undefined,
    installMethod: installLabel(detectInstall(ctx.env)),
  };
  const now = new Date();
  let written: WrittenBackup;
  if (flags.outputDir !== undefined) {
    written = await createBackup(absolutePath(flags.outputDir, ctx.env.cwd), sources, now);
  } else {
    const dir = backupDir(ctx.env, isDirectory);
    try {
      written = await createBackup(dir, sources, now);
    } catch (error) {
      if (!isWriteProblem(error)) throw error;
      const fallback = absolutePath(FALLBACK_DIR, ctx.env.cwd);
      ctx.io.err(`warning: cannot write ${dir} (${(error as Error).message}); using ${fallback}\n`);
      written = await createBackup(fallback, sources, now);
    }
  }
  ctx.io.out(`Wrote backup: ${written.path}\n`);
  if (written.meta.envPath !== undefined) {
    ctx.io.out(`  included: env (${written.meta.envPath})\n`);
  }
  for (const m of written.meta.members) if (m !== ".env") ctx.io.out(`  included: ${m}\n`);
  if (written.noDatabase) {
    ctx.io.out(`  skipped: usage.sqlite3 (no database at ${sources.dbPath} yet)\n`);
  }
  return written.path;
}

/** `eggpool backup [--output-dir DIR]` (spec 07 §5, 05 §6). */
export function backupCommand(ctx: CliContext): Command {
  return new Command("backup")
    .description("archive the config, its .env and a consistent copy of the database")
    .option("--output-dir <dir>", "where to write (default: ~/backups/eggpool)")
    .action(async (flags: { outputDir?: string }) => {
      await runBackup(ctx, flags);
    });
}
