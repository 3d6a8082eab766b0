/**
 * The hours of `request_hours` and `account_hours` (migration 0005) that a
 * connection changed, for a reader that keeps copies of those hours (the
 * grouped view's cache, src/stats/queries/_hour_rows.ts). The two places
 * that change them note here: `DayRollups.write` (the recorder's inserts,
 * finalizes and pending sweeps) and `deleteOlderThan` on `requests` (the
 * 0005 delete trigger takes those rows out of their hours); a new writer of
 * those tables must note too. Commits of other connections are the reader's
 * to notice (`PRAGMA data_version`). Nothing is noted on a connection no
 * reader watches, so the recorder's cost is one map lookup per batch.
 */
import type { Db } from "./db.ts";

/** What changed since the reader last looked. */
export interface HourWrites {
  /** Starts of the hours written. */
  hours: Set<number>;
  /** Every hour that starts before this may have changed; -Infinity when none. */
  before: number;
}

/** Per connection object: `Db.reopen` swaps it, so a reopened file starts unwatched. */
const WATCHED = new WeakMap<object, HourWrites>();

/** The notes of `db`'s connection, kept from now on. */
export function watchHourWrites(db: Db): HourWrites {
  let writes = WATCHED.get(db.raw);
  if (writes === undefined) WATCHED.set(db.raw, writes = { hours: new Set(), before: -Infinity });
  return writes;
}

/** The notes of `db`'s connection, or undefined when no reader watches it. */
export function watchedHourWrites(db: Db): HourWrites | undefined {
  return WATCHED.get(db.raw);
}
