/** Test helpers for storage code: real SQLite, real migrations, no mocks. */
import { type Db, openDatabase } from "./db.ts";
import { migrate } from "./migrate.ts";
import { MIGRATIONS } from "./migrations.ts";

/** An in-memory database with every embedded migration applied. Use with `using`. */
export function openTestDatabase(): Db {
  const db = openDatabase({ path: ":memory:" });
  migrate(db, MIGRATIONS, { clock: () => 0 });
  return db;
}

/** Every schema object's SQL, keyed by type and name, to compare two schemas exactly. */
export function dumpSchema(db: Db): Record<string, string> {
  const rows = db.stmt(
    "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name",
  ).all();
  return Object.fromEntries(rows.map((r) => [`${r.type} ${r.name}`, String(r.sql)]));
}

/** The `detail` lines of `EXPLAIN QUERY PLAN` for `sql`. */
export function queryPlan(db: Db, sql: string): string[] {
  return db.raw.prepare(`EXPLAIN QUERY PLAN ${sql}`).all().map((r) => String(r.detail));
}

/** The error `fn` throws; fails the test when it returns normally. */
export function captureError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("Expected an error, but the call returned normally");
}
