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
import { DayRollups } from "../storage/day_rollups_repo.ts";
import { TranscodeDays } from "../storage/transcode_repo.ts";
import { sqliteErrorKind } from "../storage/sqlite_errors.ts";
import { boundText, MAX_TEXT_CHARS } from "./bounds.ts";
import type { RequestOutcome, RequestStart, UsageSink } from "./types.ts";

/** Past this many unwritten records (a long outage of the disk) the oldest outcomes are dropped and counted. */
const HARD_BUFFER_CAP = 100_000;
/**
 * After a failed write, automatic flushes wait this long, doubling up to
 * RETRY_MAX_MS: a locked database costs the event loop one short busy wait
 * per retry instead of one per request (issue #12 item 3).
 */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;
/**
 * Failures that say nothing about the rows themselves (another process holds
 * the lock, the disk is full or failing): the batch is kept whole and retried.
 * Anything else (a value the table refuses, an overflow) is a row's fault, so
 * the batch is split and only the rows that fail on their own are set aside.
 */
const TRANSIENT_KINDS = new Set(["busy", "disk_full", "io", "readonly", "cant_open", "corrupt"]);

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
  /** Records the database refused on their own, set aside as `stats_record_rejected` events. */
  rejectedRecords?: number;
  /** Start of the current run of failed writes; undefined while writes succeed. */
  failingSince?: number;
  /** Most records buffered during the current run of failures. */
  peakBuffered?: number;
}

/** The recorder's own counters: every figure present. */
type Counters = RecorderStats & { rejectedRecords: number; peakBuffered: number };

interface OpenRequest {
  start: RequestStart;
  /** True once its pending row was written. */
  written: boolean;
}

interface Rejected {
  requestId: string;
  error: string;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Whether `error` is about the rows written rather than the database's state. */
function isRowFault(error: unknown): boolean {
  const kind = sqliteErrorKind(error);
  return kind === undefined
    ? error instanceof RangeError || error instanceof TypeError
    : !TRANSIENT_KINDS.has(kind);
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
  readonly #open = new Map<string, OpenRequest>();
  #finished: Finished[] = [];
  #unwrittenStarts = 0;
  #timer?: ReturnType<typeof setInterval>;
  #soon?: ReturnType<typeof setTimeout>;
  #closed = false;
  readonly #stats: Counters = {
    pendingWrites: 0,
    inFlight: 0,
    writeFailures: 0,
    duplicateFinishes: 0,
    droppedRecords: 0,
    rejectedRecords: 0,
    peakBuffered: 0,
  };
  #failureNoted = false;
  /** While failing: automatic flushes wait until this time. */
  #retryAt = 0;
  #retryDelayMs = 0;
  #retryTimer?: ReturnType<typeof setTimeout>;

  constructor(options: RecorderOptions) {
    this.#o = options;
    if (options.flushIntervalMs > 0) {
      const timer = setInterval(() => this.#autoFlush(), options.flushIntervalMs);
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

  /**
   * Why stats are not reaching the database, while a run of failed writes
   * lasts (issue #12 item 17: a full disk must not look healthy); undefined
   * once a write succeeds.
   */
  writeProblem(): string | undefined {
    const s = this.#stats;
    if (s.failingSince === undefined) return undefined;
    const buffered = this.#finished.length + this.#unwrittenStarts;
    return `stats writes failing since ${new Date(s.failingSince).toISOString()} ` +
      `(${buffered} records buffered, retrying): ${s.lastError ?? "unknown error"}`;
  }

  #maybeFlushSoon(): void {
    // While writes fail, the retry timer flushes: never one attempt per request.
    if (this.#soon !== undefined || this.#closed || this.#retryTimer !== undefined) return;
    const waiting = this.#finished.length + this.#unwrittenStarts;
    if (this.#o.flushIntervalMs === 0 || waiting >= this.#o.maxBuffered) {
      this.#soon = setTimeout(() => {
        this.#soon = undefined;
        this.#autoFlush();
      }, 0);
    }
  }

  /** A timer's flush: skipped while a failed write waits for its retry. */
  #autoFlush(): void {
    if (this.#stats.failingSince !== undefined && this.#o.clock() < this.#retryAt) return;
    this.flush();
  }

  #scheduleRetry(): void {
    this.#retryDelayMs = Math.min(
      RETRY_MAX_MS,
      this.#retryDelayMs === 0 ? RETRY_MIN_MS : this.#retryDelayMs * 2,
    );
    this.#retryAt = this.#o.clock() + this.#retryDelayMs;
    if (this.#retryTimer !== undefined || this.#closed) return;
    const timer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#autoFlush();
    }, this.#retryDelayMs);
    Deno.unrefTimer(timer);
    this.#retryTimer = timer;
  }

  /**
   * Writes everything buffered in one transaction. On a failure that is not
   * the rows' fault (locked, disk full) nothing is lost: the batch stays
   * buffered and is retried from a timer with backoff. A batch the database
   * refuses for its content is split, so one bad row never blocks the others.
   * Returns the number of records written.
   */
  flush(): number {
    const finished = this.#finished;
    const bornBefore = this.#o.clock() - (this.#o.pendingMinAgeMs ?? 0);
    const starts = [...this.#open.values()].filter((o) =>
      !o.written && o.start.startedAt <= bornBefore
    );
    if (finished.length === 0 && starts.length === 0) return 0;
    const { db } = this.#o;
    let rejected: Rejected[] = [];
    try {
      db.transaction(() => {
        try {
          db.transaction(() => this.#writeBatch(starts, finished));
        } catch (error) {
          if (!isRowFault(error)) throw error;
          rejected = this.#writeOneByOne(starts, finished);
        }
        this.#noteRecovery();
      });
    } catch (error) {
      this.#noteFailure(error);
      return 0;
    }
    for (const o of starts) o.written = true;
    this.#unwrittenStarts -= starts.length;
    this.#finished = this.#finished.slice(finished.length);
    this.#stats.lastFlushAt = this.#o.clock();
    this.#stats.rejectedRecords += rejected.length;
    for (const r of rejected) {
      this.#o.log(`Stats record ${r.requestId} refused by the database and set aside: ${r.error}`);
    }
    this.#failureNoted = false;
    this.#stats.failingSince = undefined;
    this.#stats.peakBuffered = 0;
    this.#retryDelayMs = 0;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    return finished.length + starts.length - rejected.length;
  }

  #writeBatch(starts: readonly OpenRequest[], finished: readonly Finished[]): void {
    const { db, ids } = this.#o;
    const days = new DayRollups();
    const reach = new TranscodeDays();
    for (const o of starts) insertRequest(db, ids, o.start, undefined, null, days, reach);
    const rollups = new Map<string, RollupRow>();
    for (const f of finished) this.#writeFinished(f, rollups, days, reach);
    for (const r of rollups.values()) upsertRollup(db, r);
    days.write(db);
    reach.write(db);
  }

  /**
   * The split write: each record under its own savepoint. A record that fails
   * alone is dropped from the buffer and described in a `stats_record_rejected`
   * event (never silently); the rest commit together.
   */
  #writeOneByOne(starts: readonly OpenRequest[], finished: readonly Finished[]): Rejected[] {
    const { db } = this.#o;
    const rejected: Rejected[] = [];
    const each = (requestId: string, write: () => void) => {
      try {
        db.transaction(write);
      } catch (error) {
        if (!isRowFault(error)) throw error;
        const r = { requestId, error: boundText(messageOf(error), MAX_TEXT_CHARS) };
        rejected.push(r);
        insertOperationalEvent(db, "stats_record_rejected", r, this.#o.clock());
      }
    };
    for (const o of starts) each(o.start.requestId, () => this.#writeBatch([o], []));
    for (const f of finished) each(f.start.requestId, () => this.#writeBatch([], [f]));
    return rejected;
  }

  #noteRecovery(): void {
    if (!this.#failureNoted) return;
    const s = this.#stats;
    insertOperationalEvent(this.#o.db, "stats_write_recovered", {
      failures: s.writeFailures,
      lastError: s.lastError,
      failingSinceMs: s.failingSince,
      failedForMs: s.failingSince === undefined ? undefined : this.#o.clock() - s.failingSince,
      peakBuffered: s.peakBuffered,
      droppedRecords: s.droppedRecords,
    }, this.#o.clock());
  }

  #writeFinished(
    f: Finished,
    rollups: Map<string, RollupRow>,
    days: DayRollups,
    reach: TranscodeDays,
  ): void {
    const { db, ids, bucketMs } = this.#o;
    const decisions = f.outcome.decisions;
    const routing = decisions?.length ? encodeDecisions(ids, decisions) : null;
    let rowId = f.started
      ? finalizeRequest(db, ids, f.start.requestId, f.outcome, routing, days, reach)
      : insertRequest(db, ids, f.start, f.outcome, routing, days, reach);
    if (rowId === undefined && f.started) {
      // No pending row to finalize: either it is already terminal (the insert
      // does nothing) or the database file was replaced since it was written.
      rowId = insertRequest(db, ids, f.start, f.outcome, routing, days, reach);
    }
    if (rowId === undefined) {
      // Already terminal (e.g. the stale finalizer got there first): never finalize twice.
      this.#stats.duplicateFinishes++;
      return;
    }
    insertAttempts(db, ids, rowId, f.start.startedAt, f.outcome, days);
    if (f.outcome.implausibleUsage !== undefined) {
      insertOperationalEvent(db, "implausible_usage", {
        requestId: f.start.requestId,
        account: f.outcome.accountName,
        provider: f.outcome.providerId,
        model: f.outcome.modelId,
        detail: f.outcome.implausibleUsage,
      }, f.outcome.completedAt);
    }
    if (bucketMs > 0) {
      const r = rollupOf(ids, bucketMs, f.start, f.outcome);
      const key = rollupKey(r);
      const existing = rollups.get(key);
      if (existing) mergeRollup(existing, r);
      else rollups.set(key, r);
    }
  }

  #noteFailure(error: unknown): void {
    const now = this.#o.clock();
    this.#stats.writeFailures++;
    const message = messageOf(error);
    this.#stats.lastError = message;
    this.#stats.failingSince ??= now;
    if (!this.#failureNoted) {
      this.#o.log(
        `Stats write failed, keeping ${this.#finished.length} records buffered and retrying: ${message}`,
      );
    }
    this.#failureNoted = true;
    const excess = this.#finished.length - HARD_BUFFER_CAP;
    if (excess > 0) {
      this.#finished = this.#finished.slice(excess);
      this.#stats.droppedRecords += excess;
    }
    this.#stats.peakBuffered = Math.max(
      this.#stats.peakBuffered,
      this.#finished.length + this.#unwrittenStarts,
    );
    this.#scheduleRetry();
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
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.flush();
  }
}
