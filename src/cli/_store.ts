import type { ResolvedConfig } from "../config/schema.ts";
import { openDatabase } from "../storage/db.ts";
import type { Db } from "../storage/db.ts";
import { migrate, MigrationError } from "../storage/migrate.ts";
import { CliError } from "../core/errors.ts";
import type { AppliedMigration } from "../storage/migrate.ts";
import { MIGRATIONS } from "../storage/migrations.ts";

/** Opens the configured database with the `[database]` pragmas (does not migrate). */
export function openConfiguredDatabase(config: ResolvedConfig): Db {
  const d = config.database;
  return openDatabase({
    path: d.path,
    busyTimeoutMs: d.busy_timeout_ms,
    wal: d.wal,
    synchronous: d.synchronous,
    journalSizeLimit: d.journal_size_limit,
  });
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
    throw error;
  }
}
