/**
 * The readiness write probe's one statement (`[readiness_probe]`, spec 01
 * §readyz): a write transaction that rewrites the file header's
 * `application_id` with the value it already has. SQLite writes the page
 * (a WAL frame) all the same, so a success proves the file still takes
 * writes, without a table of its own or any visible change.
 */
import type { Db } from "./db.ts";

/** Writes one page of the database file; throws what SQLite reports (locked, read-only, full). */
export function probeWrite(db: Db): void {
  const raw = db.raw;
  const row = raw.prepare("PRAGMA application_id").get() as { application_id?: number } | undefined;
  const id = Math.trunc(Number(row?.application_id ?? 0));
  raw.exec("BEGIN IMMEDIATE");
  try {
    raw.exec(`PRAGMA application_id = ${Number.isSafeInteger(id) ? id : 0}`);
    raw.exec("COMMIT");
  } catch (error) {
    if (raw.isTransaction) raw.exec("ROLLBACK");
    throw error;
  }
}
