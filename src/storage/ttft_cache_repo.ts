/**
 * Writes the TTFT histogram cache (`ttft_days`, packed by migration 0008;
 * `ttft_days_done`, 0005): a day summed from the request rows by a latency
 * read is stored with its mark, one packed histogram per (provider, model)
 * (storage/ttft_pack.ts), so the next read takes it from here. The recorder
 * and the retention trigger take a day's mark away when its TTFTs change.
 */
import type { Db } from "./db.ts";

/** One day's histogram of a provider and model ('' for none), packed. */
export type TtftDayPack = readonly [provider: string, model: string, pack: Uint8Array];

/**
 * Replaces `day`'s histograms and marks it done; false when the database
 * refused (a read-only connection, a busy lock): the caller's answer stands,
 * the next read sums the day again.
 */
export function cacheTtftDay(db: Db, day: number, packs: Iterable<TtftDayPack>): boolean {
  try {
    db.transaction(() => {
      db.stmt("DELETE FROM ttft_days WHERE day = ?").run(day);
      const insert = db.stmt("INSERT INTO ttft_days VALUES (?, ?, ?, ?)");
      for (const [provider, model, pack] of packs) insert.run(day, provider, model, pack);
      db.stmt("INSERT INTO ttft_days_done VALUES (?)").run(day);
    });
    return true;
  } catch {
    return false;
  }
}
