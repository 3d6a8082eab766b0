/**
 * Writes the TTFT histogram cache of migration 0005 (`ttft_days`,
 * `ttft_days_done`): a day summed from the request rows by a latency read is
 * stored with its mark, so the next read takes it from here. The recorder and
 * the retention trigger take a day's mark away when its TTFTs change.
 */
import type { Db } from "./db.ts";

/** One histogram cell of a day: provider and model ('' for none), bucket, count, sum of ms. */
export type TtftCell = readonly [string, string, number, number, number];

/**
 * Replaces `day`'s cells and marks it done; false when the database refused
 * (a read-only connection, a busy lock): the caller's answer stands, the
 * next read sums the day again.
 */
export function cacheTtftDay(db: Db, day: number, cells: Iterable<TtftCell>): boolean {
  try {
    db.transaction(() => {
      db.stmt("DELETE FROM ttft_days WHERE day = ?").run(day);
      const insert = db.stmt("INSERT INTO ttft_days VALUES (?, ?, ?, ?, ?, ?)");
      for (const c of cells) insert.run(day, ...c);
      db.stmt("INSERT INTO ttft_days_done VALUES (?)").run(day);
    });
    return true;
  } catch {
    return false;
  }
}
