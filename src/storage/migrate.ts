/**
 * Forward-only schema migrations. The SQL files in `migrations/` are embedded
 * through `migrations.ts`; each pending one runs in its own transaction together
 * with its `schema_migrations` row, after every applied one has been checked
 * against the SQL this build carries.
 */
import { sha256Hex } from "../core/sha256.ts";
import type { Db } from "./db.ts";

/** One migration file: `NNNN_description.sql` and its exact text. */
export interface Migration {
  readonly version: number;
  /** The file name, e.g. `0001_init.sql`. */
  readonly name: string;
  readonly sql: string;
}

/** A row of `schema_migrations`. */
export interface AppliedMigration {
  readonly version: number;
  readonly name: string;
  /** SHA-256 of the SQL text, lowercase hex. */
  readonly checksum: string;
  /** Milliseconds since the epoch. */
  readonly appliedAt: number;
}

/** Options for {@linkcode migrate}. */
export interface MigrateOptions {
  /** Source of `applied_at`; defaults to `Date.now`. */
  clock?: () => number;
}

/** Refusal to touch a schema that does not match this build, or a failed migration. */
export class MigrationError extends Error {
  /** The migration version the problem is about, when there is one. */
  readonly version?: number;

  constructor(message: string, options: { version?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "MigrationError";
    this.version = options.version;
  }
}

/** Migration file names: a zero-padded version, an underscore, a snake_case description. */
export const MIGRATION_FILE_PATTERN: RegExp = /^(\d{4,})_[a-z0-9_]+\.sql$/;

const CREATE_SCHEMA_MIGRATIONS = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT`;

/** SHA-256 of a migration's SQL as lowercase hex; what `schema_migrations.checksum` holds. */
export function migrationChecksum(sql: string): string {
  return sha256Hex(sql);
}

/** The migrations recorded in the database, oldest first; empty for a fresh database. */
export function listAppliedMigrations(db: Db): AppliedMigration[] {
  const table = db.stmt(
    "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
  ).get();
  if (table === undefined) return [];
  const rows = db.stmt(
    "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version",
  ).all();
  return rows.map((row) => ({
    version: Number(row.version),
    name: String(row.name),
    checksum: String(row.checksum),
    appliedAt: Number(row.applied_at),
  }));
}

/**
 * Brings the schema up to date and returns the migrations it applied (empty when
 * there was nothing to do). Throws {@linkcode MigrationError} without writing
 * anything when an applied migration's SQL changed since, or when the database
 * comes from a newer EggPool.
 */
export function migrate(
  db: Db,
  migrations: readonly Migration[],
  options: MigrateOptions = {},
): AppliedMigration[] {
  if (db.inTransaction || db.raw.isTransaction) {
    throw new MigrationError("Cannot migrate: a transaction is open on this connection");
  }
  const ordered = checkManifest(migrations);
  if (!db.readOnly) db.exec(CREATE_SCHEMA_MIGRATIONS);
  const applied = listAppliedMigrations(db);
  checkApplied(applied, ordered);

  const appliedVersions = new Set(applied.map((m) => m.version));
  const pending = ordered.filter((m) => !appliedVersions.has(m.version));
  if (pending.length === 0) return [];
  if (db.readOnly) {
    throw new MigrationError(
      `Cannot apply ${pending.length} pending migration(s) starting at "${
        pending[0].name
      }": the database is open read-only`,
    );
  }
  const newest = applied.at(-1);
  if (newest !== undefined && pending[0].version < newest.version) {
    throw new MigrationError(
      `Cannot apply migration "${
        pending[0].name
      }": the database already has the later migration "${newest.name}"; new migrations need a higher number`,
      { version: pending[0].version },
    );
  }

  const clock = options.clock ?? Date.now;
  const done: AppliedMigration[] = [];
  for (const migration of pending) {
    const result = applyOne(db, migration, clock);
    if (result !== undefined) done.push(result);
  }
  return done;
}

/** Validates the embedded list and returns it sorted by version. */
function checkManifest(migrations: readonly Migration[]): Migration[] {
  const seen = new Set<number>();
  for (const m of migrations) {
    const match = MIGRATION_FILE_PATTERN.exec(m.name);
    if (match === null || Number(match[1]) !== m.version || m.version < 1) {
      throw new MigrationError(
        `Cannot migrate: migration "${m.name}" (version ${m.version}) must be named NNNN_description.sql after its version`,
        { version: m.version },
      );
    }
    if (seen.has(m.version)) {
      throw new MigrationError(`Cannot migrate: version ${m.version} appears twice`, {
        version: m.version,
      });
    }
    seen.add(m.version);
  }
  return [...migrations].sort((a, b) => a.version - b.version);
}

/** Every recorded migration must be one this build has, with identical SQL. */
function checkApplied(applied: readonly AppliedMigration[], ordered: readonly Migration[]) {
  const byVersion = new Map(ordered.map((m) => [m.version, m]));
  const latest = ordered.at(-1);
  for (const row of applied) {
    const embedded = byVersion.get(row.version);
    if (embedded === undefined) {
      const known = latest === undefined ? "none" : `"${latest.name}"`;
      const why = latest === undefined || row.version > latest.version
        ? "the database was written by a newer EggPool; upgrade EggPool or use a database made by this version"
        : "this build does not include it; use the EggPool build that created this database";
      throw new MigrationError(
        `Cannot use this database: it has migration "${row.name}" (version ${row.version}) but the newest migration this build knows is ${known}; ${why}`,
        { version: row.version },
      );
    }
    checkChecksum(embedded, row.checksum);
  }
}

function checkChecksum(embedded: Migration, recorded: string) {
  const expected = migrationChecksum(embedded.sql);
  if (expected !== recorded) {
    throw new MigrationError(
      `Migration "${embedded.name}" was changed after it was applied: recorded sha256 ${recorded}, embedded ${expected}; restore the file or restore the database from a backup`,
      { version: embedded.version },
    );
  }
}

/**
 * Applies one migration with foreign keys off (so a migration may rebuild a table
 * the way https://sqlite.org/lang_altertable.html describes) and checks them
 * before committing. Returns undefined when another process applied it first.
 */
function applyOne(db: Db, migration: Migration, clock: () => number): AppliedMigration | undefined {
  const foreignKeys = db.raw.prepare("PRAGMA foreign_keys").get()?.foreign_keys;
  db.exec("PRAGMA foreign_keys = OFF");
  try {
    return db.transaction(() => {
      const existing = db.stmt("SELECT checksum FROM schema_migrations WHERE version = ?")
        .get(migration.version);
      if (existing !== undefined) {
        checkChecksum(migration, String(existing.checksum));
        return undefined;
      }
      try {
        db.exec(migration.sql);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new MigrationError(`Cannot apply migration "${migration.name}": ${reason}`, {
          version: migration.version,
          cause: error,
        });
      }
      checkForeignKeys(db, migration);
      const row: AppliedMigration = {
        version: migration.version,
        name: migration.name,
        checksum: migrationChecksum(migration.sql),
        appliedAt: clock(),
      };
      db.stmt(
        "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
      ).run(row.version, row.name, row.checksum, row.appliedAt);
      return row;
    });
  } finally {
    db.exec(`PRAGMA foreign_keys = ${foreignKeys === 0 ? "OFF" : "ON"}`);
  }
}

function checkForeignKeys(db: Db, migration: Migration) {
  const problems = db.raw.prepare("PRAGMA foreign_key_check").all();
  if (problems.length === 0) return;
  const first = problems[0];
  throw new MigrationError(
    `Cannot apply migration "${migration.name}": it leaves ${problems.length} row(s) violating foreign keys (first: "${first.table}" row ${first.rowid} → "${first.parent}")`,
    { version: migration.version },
  );
}
