/**
 * Write-behind stats: the data plane hands over request starts and outcomes,
 * and they reach SQLite in batched transactions off the request path. A
 * request that finishes before its start was flushed is written once, whole,
 * which halves the writes on an SD card.
 *
 * A flush writes a pending row for each request in flight, so a crash leaves
 * it to be marked interrupted, but only once the request is older than
 * `pendingMinAgeMs`: a request a few milliseconds old is nearly always done by
 * the next flush (at 1 500 requests/s a quarter of all requests were in flight
 * at some flush and cost a second write), and a crash before then loses it no
 * more than it loses the finished records still in the buffer.
 */
import type { Db } from "../storage/db.ts";
import type { IdLookup } from "../storage/requests_repo.ts";
import {
  finalizeRequest,
  insertAttempts,
  insertOperationalEvent,
  insertRequest,
  mergeRollup,
  rollupKey,
  rollupOf,
  upsertRollup,
} from "../storage/requests_repo.ts";
import type { RollupRow } from "../storage/requests_repo.ts";
import { encodeDecisions } from "../storage/routing_repo.ts";
import type { RequestOutcome, RequestStart, UsageSink } from "./types.ts";

/** Past this many unwritten records (a long outage of the disk) the oldest outcomes are dropped and counted. */
const HARD_BUFFER_CAP = 100_000;

/** Options for {@linkcode StatsRecorder}. */
export interface RecorderOptions {
  db: Db;
  ids: IdLookup;
  clock: () => number;
  /** 0 = write on the next event-loop turn (batching what arrived in the same turn). */
  flushIntervalMs: number;
  /** Flush early once this many records wait. */
  maxBuffered: number;
  /** A flush writes pending rows only for requests begun at least this long ago (default 0). */
  pendingMinAgeMs?: number;
  /** Rollup bucket width; 0 disables rollups. */
  bucketMs: number;
  log: (message: string) => void;
}

/** Counters for `/api/stats/runtime`. */
export interface RecorderStats {
  pendingWrites: number;
  inFlight: number;
  lastFlushAt?: number;
  lastError?: string;
  writeFailures: number;
  duplicateFinishes: number;
  droppedRecords: number;
}

interface Finished {
  start: RequestStart;
  outcome: RequestOutcome;
  /** True when the pending row is already in the database. */
  started: boolean;
}

/** The {@linkcode UsageSink} backed by SQLite. */
export class StatsRecorder implements UsageSink {
  readonly #o: RecorderOptions;
  /** Begun and not finished, by request id; value says whether its pending row was written. */
  readonly #open = new Map<string, { start: RequestStart; written: boolean }>();
  #finished: Finished[] = [];
  #unwrittenStarts = 0;
  #timer?: ReturnType<typeof setInterval>;
  #soon?: ReturnType<typeof setTimeout>;
  #closed = false;
  readonly #stats: RecorderStats = {
    pendingWrites: 0,
    inFlight: 0,
    writeFailures: 0,
    duplicateFinishes: 0,
    droppedRecords: 0,
  };
  #failureNoted = false;

  constructor(options: RecorderOptions) {
    this.#o = options;
    if (options.flushIntervalMs > 0) {
      const timer = setInterval(() => this.flush(), options.flushIntervalMs);
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  begin(start: RequestStart): void {
    this.#open.set(start.requestId, { start, written: false });
    this.#unwrittenStarts++;
    this.#maybeFlushSoon();
  }

  finish(requestId: string, outcome: RequestOutcome): void {
    const open = this.#open.get(requestId);
    if (open === undefined) {
      this.#stats.duplicateFinishes++;
      return;
    }
    this.#open.delete(requestId);
    if (!open.written) this.#unwrittenStarts--;
    this.#finished.push({ start: open.start, outcome, started: open.written });
    this.#maybeFlushSoon();
  }

  /** Ids of requests that began and have not finished (the stale finalizer leaves these alone). */
  inFlightIds(): ReadonlySet<string> {
    return new Set(this.#open.keys());
  }

  /** Number of requests begun and not finished. */
  get inFlight(): number {
    return this.#open.size;
  }

  stats(): RecorderStats {
    return {
      ...this.#stats,
      inFlight: this.#open.size,
      pendingWrites: this.#finished.length + this.#unwrittenStarts,
    };
  }

  #maybeFlushSoon(): void {
    if (this.#soon !== undefined || this.#closed) return;
    const waiting = this.#finished.length + this.#unwrittenStarts;
    if (this.#o.flushIntervalMs === 0 || waiting >= this.#o.maxBuffered) {
      this.#soon = setTimeout(() => {
        this.#soon = undefined;
        this.flush();
      }, 0);
    }
  }

  /**
   * Writes everything buffered in one transaction. On failure (disk full,
   * locked) nothing is lost: the batch stays buffered for the next try.
   * Returns the number of records written.
   */
  flush(): number {
    const finished = this.#finished;
    const bornBefore = this.#o.clock() - (this.#o.pendingMinAgeMs ?? 0);
    const starts = [...this.#open.values()].filter((o) =>
      !o.written && o.start.startedAt <= bornBefore
    );
    if (finished.length === 0 && starts.length === 0) return 0;
    const { db, ids } = this.#o;
    try {
      db.transaction(() => {
        for (const o of starts) insertRequest(db, ids, o.start);
        const rollups = new Map<string, RollupRow>();
        for (const f of finished) this.#writeFinished(f, rollups);
        for (const r of rollups.values()) upsertRollup(db, r);
        if (this.#failureNoted) {
          insertOperationalEvent(db, "stats_write_recovered", {
            failures: this.#stats.writeFailures,
            lastError: this.#stats.lastError,
          }, this.#o.clock());
        }
      });
    } catch (error) {
      this.#noteFailure(error);
      return 0;
    }
    for (const o of starts) o.written = true;
    this.#unwrittenStarts -= starts.length;
    this.#finished = this.#finished.slice(finished.length);
    this.#stats.lastFlushAt = this.#o.clock();
    this.#failureNoted = false;
    return finished.length + starts.length;
  }

  #writeFinished(f: Finished, rollups: Map<string, RollupRow>): void {
    const { db, ids, bucketMs } = this.#o;
    const decisions = f.outcome.decisions;
    const routing = decisions?.length ? encodeDecisions(ids, decisions) : null;
    const rowId = f.started
      ? finalizeRequest(db, ids, f.start.requestId, f.outcome, routing)
      : insertRequest(db, ids, f.start, f.outcome, routing);
    if (rowId === undefined) {
      // Already terminal (e.g. the stale finalizer got there first): never finalize twice.
      this.#stats.duplicateFinishes++;
      return;
    }
    insertAttempts(db, ids, rowId, f.outcome.attempts);
    if (bucketMs > 0) {
      const r = rollupOf(ids, bucketMs, f.start, f.outcome);
      const key = rollupKey(r);
      const existing = rollups.get(key);
      if (existing) mergeRollup(existing, r);
      else rollups.set(key, r);
    }
  }

  #noteFailure(error: unknown): void {
    this.#stats.writeFailures++;
    const message = error instanceof Error ? error.message : String(error);
    this.#stats.lastError = message;
    if (!this.#failureNoted) {
      this.#o.log(
        `Stats write failed, keeping ${this.#finished.length} records buffered: ${message}`,
      );
    }
    this.#failureNoted = true;
    const excess = this.#finished.length - HARD_BUFFER_CAP;
    if (excess > 0) {
      this.#finished = this.#finished.slice(excess);
      this.#stats.droppedRecords += excess;
    }
  }

  /**
   * The in-memory half of the stale-request finalizer: requests begun before
   * `cutoff` and never finished (a leaked lifecycle) end as `interrupted`.
   * Returns how many were expired.
   */
  expireStale(cutoff: number): number {
    const now = this.#o.clock();
    let n = 0;
    for (const [id, open] of this.#open) {
      if (open.start.startedAt >= cutoff) continue;
      this.finish(id, {
        status: "interrupted",
        completedAt: now,
        errorClass: "stale_request",
        errorMessage: "The request outlived the stale-request threshold",
        inputTokens: 0,
        outputTokens: 0,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
        costMicros: 0,
        exactness: "unknown",
        latencyMs: now - open.start.startedAt,
        bytesOut: 0,
        attempts: [],
      });
      n++;
    }
    return n;
  }

  /** Stops the timer and writes what is buffered. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#soon !== undefined) clearTimeout(this.#soon);
    this.flush();
  }
}
