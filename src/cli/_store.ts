import type { ResolvedConfig } from "../config/schema.ts";
import { openDatabase } from "../storage/db.ts";
import type { Db } from "../storage/db.ts";
import { migrate, MigrationError } from "../storage/migrate.ts";
import { CliError } from "../core/errors.ts";
import { dirName } from "../config/paths.ts";
import { sqliteErrorKind } from "../storage/sqlite_errors.ts";
import type { AppliedMigration } from "../storage/migrate.ts";
import { MIGRATIONS } from "../storage/migrations.ts";

/** Opens the configured database with the `[database]` pragmas (does not migrate). */
export function openConfiguredDatabase(config: ResolvedConfig): Db {
  const d = config.database;
  try {
    return openDatabase({
      path: d.path,
      busyTimeoutMs: d.busy_timeout_ms,
      wal: d.wal,
      synchronous: d.synchronous,
      journalSizeLimit: d.journal_size_limit,
    });
  } catch (error) {
    throw databaseProblem(error, d.path) ?? error;
  }
}

/**
 * The one line an operator needs when the database cannot be opened or
 * written at start: what is wrong with which file, and what to do. Undefined
 * for errors that are not about the file (those keep their stack).
 */
export function databaseProblem(error: unknown, path: string): CliError | undefined {
  const where = `set [database] path to a writable place, or fix ${dirName(path)}`;
  if (error instanceof Deno.errors.PermissionDenied) {
    return new CliError(`cannot create or open the database ${path}: permission denied; ${where}`);
  }
  if (
    error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory ||
    // mkdir -p over a regular file
    error instanceof Deno.errors.AlreadyExists
  ) {
    return new CliError(
      `cannot create the database folder for ${path} (${error.message}); ${where}`,
    );
  }
  switch (sqliteErrorKind(error)) {
    case "readonly":
      return new CliError(
        `the database ${path} is read-only for this user (uid ${Deno.uid()}): make the file and ` +
          "its folder writable by it, or set [database] path to a writable place",
      );
    case "cant_open":
      return new CliError(`cannot open the database ${path}: ${where}`);
    case "disk_full":
      return new CliError(`the disk holding ${path} is full: free some space, then start again`);
    case "io":
      return new CliError(`disk I/O error on ${path}: check the disk (dmesg) and its free space`);
    case "corrupt":
      return new CliError(
        `the database ${path} is damaged (${(error as Error).message}): restore a backup, or ` +
          "move the file aside to start a new one",
      );
  }
  return undefined;
}

/**
 * Opens and migrates the configured database; returns it with the migrations
 * applied now. A changed or unknown migration becomes a {@linkcode CliError}.
 */
export function openMigratedDatabase(
  config: ResolvedConfig,
): { db: Db; applied: AppliedMigration[] } {
  const db = openConfiguredDatabase(config);
  try {
    return { db, applied: migrate(db, MIGRATIONS) };
  } catch (error) {
    db.close();
    if (error instanceof MigrationError) throw new CliError(error.message);
    throw databaseProblem(error, config.database.path) ?? error;
  }
}
