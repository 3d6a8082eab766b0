/**
 * The whole hours of `request_hours` and `account_hours` (migration 0005) as
 * the grouped hour view reads them, kept in memory per connection (issue
 * #14): a 30-day view reads about 9 200 rollup rows, a quarter of its time,
 * though between two calls only the newest hour and the few hours that a
 * late-finalized stream or a retention delete touched change. Two signals
 * keep the copy exact: the hours this connection wrote (noted by the writers,
 * src/storage/hour_writes.ts) are read again, and everything is read again
 * when `PRAGMA data_version` says another connection committed (a CLI
 * command, another process; on a read-only connection, every write).
 */
import type { Db } from "../../storage/db.ts";
import { arrays } from "./_sql.ts";
import { HOUR_MS } from "./_slots.ts";
import { watchHourWrites } from "../../storage/hour_writes.ts";
import type { HourWrites } from "../../storage/hour_writes.ts";

/** The two hour rollups. */
export type HourTable = "request_hours" | "account_hours";

/** Counters per row, in the order of {@linkcode COUNTER_COLUMNS}. */
export const COUNTERS = 14;

const COUNTER_COLUMNS = `n, errors, input, output, cache_read, cache_write, reasoning, cost,
  bytes_in, bytes_out, latency_sum, latency_n, ttft_sum, ttft_n`;

/**
 * One hour's rows: `keys[i]` is `provider_id + "\0" + model_id` (request_hours)
 * or the account id as text (account_hours), its counters at `i * COUNTERS`.
 */
export interface HourRows {
  keys: string[];
  counters: Float64Array;
}

const NO_COUNTERS = new Float64Array(0);

const READ: Record<HourTable, string> = {
  request_hours: `SELECT hour, provider_id, model_id, ${COUNTER_COLUMNS}
    FROM request_hours WHERE hour >= ? AND hour < ? AND n <> 0`,
  account_hours: `SELECT hour, '', account_id, ${COUNTER_COLUMNS}
    FROM account_hours WHERE hour >= ? AND hour < ? AND n <> 0`,
};

interface Cache {
  dataVersion: number;
  writes: HourWrites;
  hours: Record<HourTable, Map<number, HourRows>>;
}

/** Keyed by the connection object: `Db.reopen` swaps it, which starts a new cache. */
const CACHES = new WeakMap<object, Cache>();

function dataVersion(db: Db): number {
  return Number(arrays(db, "PRAGMA data_version", [])[0][0]);
}

/** This connection's cache, with what changed since the last call taken out. */
function syncedCache(db: Db): Cache {
  const version = dataVersion(db);
  let cache = CACHES.get(db.raw);
  if (cache === undefined) {
    cache = {
      dataVersion: version,
      writes: watchHourWrites(db),
      hours: { request_hours: new Map(), account_hours: new Map() },
    };
    CACHES.set(db.raw, cache);
  }
  const { hours, writes } = cache;
  if (version !== cache.dataVersion) {
    cache.dataVersion = version;
    hours.request_hours.clear();
    hours.account_hours.clear();
  }
  for (const table of [hours.request_hours, hours.account_hours]) {
    for (const h of writes.hours) table.delete(h);
    if (writes.before > -Infinity) {
      for (const h of table.keys()) if (h < writes.before) table.delete(h);
    }
  }
  writes.hours.clear();
  writes.before = -Infinity;
  return cache;
}

/**
 * Reads the hours `from <= hour < to` of `table` into `into`; an hour without
 * rows gets an empty object of its own (callers keep things beside each hour).
 */
function readHours(
  db: Db,
  table: HourTable,
  from: number,
  to: number,
  into: Map<number, HourRows>,
): void {
  for (let h = from; h < to; h += HOUR_MS) into.set(h, { keys: [], counters: NO_COUNTERS });
  const byAccount = table === "account_hours";
  let hour = NaN;
  let keys: string[] = [];
  let values: number[] = [];
  const close = () => {
    if (keys.length > 0) into.set(hour, { keys, counters: Float64Array.from(values) });
  };
  for (const r of arrays(db, READ[table], [from, to])) {
    const h = r[0] as number;
    if (h !== hour) {
      close();
      hour = h;
      keys = [];
      values = [];
    }
    keys.push(byAccount ? String(r[2]) : `${r[1]}\u0000${r[2]}`);
    for (let i = 3; i < 3 + COUNTERS; i++) values.push(r[i] as number);
  }
  close();
}

/**
 * The rows of `table` for each whole hour `from <= hour < to`, index
 * `(hour - from) / HOUR_MS`: the cached hours as they are, the others read
 * (in one statement per run of consecutive hours). The cache keeps only the
 * hours of the latest call.
 */
export function hourRows(db: Db, table: HourTable, from: number, to: number): HourRows[] {
  const cached = syncedCache(db).hours[table];
  const fresh = new Map<number, HourRows>();
  let runFrom = -1;
  for (let h = from; h <= to; h += HOUR_MS) {
    const rows = h < to ? cached.get(h) : undefined;
    if (rows !== undefined || h === to) {
      if (runFrom >= 0) readHours(db, table, runFrom, h, fresh);
      runFrom = -1;
      if (rows !== undefined) fresh.set(h, rows);
    } else if (runFrom < 0) runFrom = h;
  }
  cached.clear();
  const answer: HourRows[] = [];
  for (let h = from; h < to; h += HOUR_MS) {
    const rows = fresh.get(h)!;
    cached.set(h, rows);
    answer.push(rows);
  }
  return answer;
}
