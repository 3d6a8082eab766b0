/**
 * Database snapshots for `backup` and checks for `recover` (spec 05 §6).
 *
 * The copy uses SQLite's online backup API (`backup()` of `node:sqlite`) in
 * one step (`rate: -1`): the whole copy runs inside one read transaction of
 * the source, so it is the database as of one commit, while the server keeps
 * writing (WAL lets readers and the writer proceed together). A stepped copy
 * (the default 100 pages at a time) restarts from the first page whenever
 * another connection writes between steps; the server commits a stats batch
 * every second, so under load a stepped backup of a large file might never
 * finish. `VACUUM INTO` would also be one consistent read, but it rebuilds
 * every table and index page by page, which costs far more CPU than copying
 * pages on a Pi, and its output loses the WAL setting.
 */
import { backup, DatabaseSync } from "node:sqlite";

/** Copies the live database at `source` to a new file `dest` (which must not exist). */
export async function snapshotDatabase(
  source: string,
  dest: string,
  options: { busyTimeoutMs?: number } = {},
): Promise<void> {
  // The file must exist: opening would otherwise create an empty database.
  if (!Deno.statSync(source).isFile) throw new Error(`Cannot back up ${source}: not a file`);
  const db = new DatabaseSync(source);
  try {
    db.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    await backup(db, dest, { rate: -1 });
  } finally {
    db.close();
  }
}

/**
 * `PRAGMA quick_check` (`full`: `integrity_check`) of the database file at
 * `path`: "ok", or the problems SQLite found (a file that is not a database
 * reports the open error's message).
 */
export function checkDatabaseFile(path: string, full: boolean): string {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    const rows = db.prepare(`PRAGMA ${full ? "integrity_check" : "quick_check"}`).all();
    return rows.map((row) => String(Object.values(row)[0])).join("\n");
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    try {
      db?.close();
    } catch { /* closing after a failed open */ }
  }
}
