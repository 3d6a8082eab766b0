/**
 * SQL for request rows, attempts and rollups. The recorder decides when to
 * write; this module only knows how.
 */
import type { Db } from "./db.ts";
import type { Protocol } from "../core/protocol.ts";
import type { AttemptDecision, RequestOutcome, RequestStart } from "../stats/types.ts";
import {
  boundText,
  MAX_EVENT_DETAILS_CHARS,
  MAX_ID_CHARS,
  MAX_TEXT_CHARS,
} from "../stats/bounds.ts";
import { DayRollups, pendingValues } from "./day_rollups_repo.ts";
import type { AttemptDayValues, DayRowValues } from "./day_rollups_repo.ts";
import { noteTranscode, storedSurface } from "./transcode_repo.ts";
import type { TranscodeDays } from "./transcode_repo.ts";

/** Maps account names and provider ids to the integer ids rows reference. */
export interface IdLookup {
  accountId(name: string | undefined): number | null;
}

const INSERT_REQUEST = `INSERT INTO requests (
  proxy_request_id, account_id, provider_id, model_id, requested_model, client_protocol,
  upstream_protocol, streamed, status, status_code, error_class, error_message, started_at,
  first_attempt_at, completed_at, attempt_count, input_tokens, output_tokens, cache_read_tokens,
  cache_write_tokens, reasoning_tokens, cost_microdollars, cost_exactness, latency_ms,
  first_byte_ms, bytes_in, bytes_out, client_ip, session_key_hash, upstream_request_id,
  routing_json
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (proxy_request_id) DO NOTHING`;

const FINALIZE_REQUEST = `UPDATE requests SET
  account_id = ?, provider_id = ?, model_id = ?, upstream_protocol = ?, status = ?,
  status_code = ?, error_class = ?, error_message = ?, first_attempt_at = ?, completed_at = ?,
  attempt_count = ?, input_tokens = ?, output_tokens = ?, cache_read_tokens = ?,
  cache_write_tokens = ?, reasoning_tokens = ?, cost_microdollars = ?, cost_exactness = ?,
  latency_ms = ?, first_byte_ms = ?, bytes_out = ?, upstream_request_id = ?, routing_json = ?
WHERE proxy_request_id = ? AND status = 'pending'
RETURNING id, started_at, streamed, bytes_in, client_protocol, client_ip`;

const INSERT_ATTEMPT = `INSERT INTO request_attempts (
  request_id, attempt_number, account_id, provider_id, model_id, upstream_protocol, started_at,
  completed_at, status_code, error_class, error_message, retry_category, latency_ms,
  first_byte_ms, bytes_out, upstream_request_id
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (request_id, attempt_number) DO NOTHING`;

const UPSERT_ROLLUP = `INSERT INTO usage_rollups (
  bucket_ms, bucket_start, account_id, provider_id, model_id, client_protocol, streamed, status,
  request_count, attempt_count, input_tokens, output_tokens, cache_read_tokens,
  cache_write_tokens, reasoning_tokens, cost_microdollars, bytes_in, bytes_out, latency_ms_sum,
  latency_count, latency_ms_max, first_byte_ms_sum, first_byte_count, updated_at
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (bucket_ms, bucket_start, account_id, provider_id, model_id, client_protocol, streamed, status)
DO UPDATE SET
  request_count = request_count + excluded.request_count,
  attempt_count = attempt_count + excluded.attempt_count,
  input_tokens = input_tokens + excluded.input_tokens,
  output_tokens = output_tokens + excluded.output_tokens,
  cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
  cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens,
  reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens,
  cost_microdollars = cost_microdollars + excluded.cost_microdollars,
  bytes_in = bytes_in + excluded.bytes_in,
  bytes_out = bytes_out + excluded.bytes_out,
  latency_ms_sum = latency_ms_sum + excluded.latency_ms_sum,
  latency_count = latency_count + excluded.latency_count,
  latency_ms_max = max(latency_ms_max, excluded.latency_ms_max),
  first_byte_ms_sum = first_byte_ms_sum + excluded.first_byte_ms_sum,
  first_byte_count = first_byte_count + excluded.first_byte_count,
  updated_at = excluded.updated_at`;

function int(value: number | undefined): number | null {
  return value === undefined || !Number.isFinite(value) ? null : Math.round(value);
}

/** An identifier-like string (model, provider, session hash, request id), cut at MAX_ID_CHARS. */
function text(value: string | undefined): string | null {
  return value === undefined || value === "" ? null : boundText(value, MAX_ID_CHARS);
}

/** Free text (error messages), cut at MAX_TEXT_CHARS. */
function prose(value: string | undefined): string | null {
  return value === undefined || value === "" ? null : boundText(value, MAX_TEXT_CHARS);
}

/**
 * Inserts a request row; a finished request is written whole in one statement.
 * `routingJson` is its encoded routing decisions (`routing_repo.encodeDecisions`).
 */
export function insertRequest(
  db: Db,
  ids: IdLookup,
  start: RequestStart,
  outcome?: RequestOutcome,
  routingJson: string | null = null,
  days?: DayRollups,
  transcodes?: TranscodeDays,
): number | undefined {
  const o = outcome;
  // run() and lastInsertRowid instead of RETURNING: SQLite buffers RETURNING
  // rows in a temporary table, which costs more than the insert itself.
  const result = db.stmt(INSERT_REQUEST).run(
    start.requestId,
    ids.accountId(o?.accountName),
    text(o?.providerId),
    text(o?.modelId),
    boundText(start.requestedModel, MAX_ID_CHARS),
    start.clientProtocol,
    text(o?.upstreamProtocol),
    start.streamed ? 1 : 0,
    o?.status ?? "pending",
    int(o?.statusCode),
    text(o?.errorClass),
    prose(o?.errorMessage),
    start.startedAt,
    int(o?.attempts[0]?.startedAt),
    o ? o.completedAt : null,
    o?.attempts.length ?? 0,
    o?.inputTokens ?? 0,
    o?.outputTokens ?? 0,
    o?.cacheReadTokens ?? 0,
    o?.cacheWriteTokens ?? 0,
    o?.reasoningTokens ?? 0,
    o?.costMicros ?? 0,
    o?.exactness ?? "unknown",
    int(o?.latencyMs),
    int(o?.firstByteMs),
    start.bytesIn,
    o?.bytesOut ?? 0,
    text(start.clientIp),
    text(start.sessionKeyHash),
    text(o?.upstreamRequestId),
    routingJson,
  );
  if (result.changes === 0) return undefined;
  addDayValues(
    days,
    db,
    o === undefined
      ? pendingValues(start.startedAt, start.streamed, start.bytesIn, text(start.clientIp))
      : finalValues(
        ids,
        start.startedAt,
        start.streamed,
        start.bytesIn,
        o,
        routingJson,
        text(start.clientIp),
      ),
  );
  const rowId = Number(result.lastInsertRowid);
  noteTranscode(db, rowId, {
    startedAt: start.startedAt,
    clientProtocol: start.clientProtocol,
    clientSurface: start.clientSurface,
    upstreamProtocol: o?.upstreamProtocol,
    status: o?.status ?? "pending",
    droppedFields: o?.droppedFields,
    droppedNames: o?.droppedNames,
  }, transcodes);
  return rowId;
}

/** The day-rollup values of a finished request's row, as insertRequest and finalizeRequest store them. */
function finalValues(
  ids: IdLookup,
  startedAt: number,
  streamed: boolean,
  bytesIn: number,
  o: RequestOutcome,
  routingJson: string | null,
  clientIp: string | null,
): DayRowValues {
  return {
    startedAt,
    accountId: ids.accountId(o.accountName),
    providerId: text(o.providerId),
    modelId: text(o.modelId),
    streamed,
    status: o.status,
    attemptCount: o.attempts.length,
    inputTokens: o.inputTokens,
    outputTokens: o.outputTokens,
    cacheReadTokens: o.cacheReadTokens,
    cacheWriteTokens: o.cacheWriteTokens,
    reasoningTokens: o.reasoningTokens,
    costMicros: o.costMicros,
    exactness: o.exactness,
    latencyMs: int(o.latencyMs),
    firstByteMs: int(o.firstByteMs),
    bytesIn,
    bytesOut: o.bytesOut,
    routingJson,
    // The recorder's routingJson encodes o.decisions: count them without parsing it.
    decisionCounts: routingJson !== null && o.decisions !== undefined && o.decisions.length > 0
      ? decisionCounts(o.decisions)
      : undefined,
    clientIp,
    firstAttemptAt: int(o.attempts[0]?.startedAt),
  };
}

function decisionCounts(list: readonly AttemptDecision[]) {
  let eligible = 0;
  for (const d of list) eligible += d.decision.candidates.length;
  return { decisions: list.length, eligible };
}

/**
 * Adds a written row to the day rollups: into the caller's batch, or, for a
 * caller without one, straight into the tables.
 */
function addDayValues(days: DayRollups | undefined, db: Db, v: DayRowValues, sign = 1): void {
  if (days !== undefined) {
    days.add(v, sign);
    return;
  }
  const one = new DayRollups();
  one.add(v, sign);
  one.write(db);
}

/** Moves a pending row to its terminal state; returns its id, or undefined when it was not pending. */
export function finalizeRequest(
  db: Db,
  ids: IdLookup,
  requestId: string,
  o: RequestOutcome,
  routingJson: string | null = null,
  days?: DayRollups,
  transcodes?: TranscodeDays,
): number | undefined {
  const row = db.stmt(FINALIZE_REQUEST).get(
    ids.accountId(o.accountName),
    text(o.providerId),
    text(o.modelId),
    text(o.upstreamProtocol),
    o.status,
    int(o.statusCode),
    text(o.errorClass),
    prose(o.errorMessage),
    int(o.attempts[0]?.startedAt),
    o.completedAt,
    o.attempts.length,
    o.inputTokens,
    o.outputTokens,
    o.cacheReadTokens,
    o.cacheWriteTokens,
    o.reasoningTokens,
    o.costMicros,
    o.exactness,
    int(o.latencyMs),
    int(o.firstByteMs),
    o.bytesOut,
    text(o.upstreamRequestId),
    routingJson,
    requestId,
  );
  if (row === undefined) return undefined;
  const startedAt = Number(row.started_at);
  const streamed = Number(row.streamed) === 1;
  const bytesIn = Number(row.bytes_in);
  const ip = row.client_ip === null ? null : String(row.client_ip);
  const batch = days ?? new DayRollups();
  batch.add(pendingValues(startedAt, streamed, bytesIn, ip), -1);
  batch.add(finalValues(ids, startedAt, streamed, bytesIn, o, routingJson, ip));
  if (days === undefined) batch.write(db);
  noteTranscode(db, Number(row.id), {
    startedAt,
    clientProtocol: row.client_protocol as Protocol,
    // An outcome that does not say (the stale finalizer's) keeps what the pending row recorded.
    clientSurface: o.clientSurface ?? storedSurface(db, Number(row.id)),
    upstreamProtocol: o.upstreamProtocol,
    status: o.status,
    droppedFields: o.droppedFields,
    droppedNames: o.droppedNames,
  }, transcodes);
  return Number(row.id);
}

/**
 * Writes a request's attempts (idempotent per attempt number). Only requests
 * that failed over or failed need them: a single successful attempt is
 * already described in full by its request row, so it is not written twice.
 * Either way the attempts as the stats count them go into the day rollups
 * (`days`, the caller's batch; written at once without one), on the day of
 * the request's `startedAt`.
 */
export function insertAttempts(
  db: Db,
  ids: IdLookup,
  requestRowId: number,
  startedAt: number,
  o: RequestOutcome,
  days?: DayRollups,
): void {
  const attempts = o.attempts;
  const counted: AttemptDayValues[] = [];
  if (attempts.length !== 1 || attempts[0].errorClass !== undefined) {
    const stmt = db.stmt(INSERT_ATTEMPT);
    for (const a of attempts) {
      const accountId = ids.accountId(a.accountName);
      if (accountId === null) continue;
      const providerId = boundText(a.providerId, MAX_ID_CHARS);
      const errorClass = text(a.errorClass);
      const latencyMs = int(a.latencyMs);
      const result = stmt.run(
        requestRowId,
        a.attemptNumber,
        accountId,
        providerId,
        boundText(a.modelId, MAX_ID_CHARS),
        a.upstreamProtocol,
        a.startedAt,
        a.completedAt,
        int(a.statusCode),
        errorClass,
        prose(a.errorMessage),
        text(a.retryCategory),
        latencyMs,
        int(a.firstByteMs),
        a.bytesOut,
        text(a.upstreamRequestId),
      );
      if (Number(result.changes) === 0) continue;
      counted.push({
        accountId,
        providerId,
        attemptNumber: a.attemptNumber,
        ok: errorClass === null,
        category: text(a.retryCategory) ?? "",
        bytesOut: a.bytesOut,
        latencyMs,
      });
    }
  }
  const accountId = ids.accountId(o.accountName);
  if (counted.length === 0 && attempts.length === 1 && accountId !== null) {
    // No attempt row: the stats count the request row's own attempt as one success.
    counted.push({
      accountId,
      providerId: text(o.providerId) ?? "",
      attemptNumber: 1,
      ok: true,
      category: "",
      bytesOut: o.bytesOut,
      latencyMs: int(o.latencyMs),
    });
  }
  if (counted.length === 0) return;
  const batch = days ?? new DayRollups();
  batch.addAttempts(startedAt, counted);
  if (days === undefined) batch.write(db);
}

/**
 * A `request_attempts` row as the day rollups count it; the row has
 * `attempt_number, account_id, provider_id, error_class IS NULL AS ok,
 * retry_category, bytes_out, latency_ms`.
 */
export function attemptRowValues(r: Record<string, unknown>): AttemptDayValues {
  return {
    accountId: Number(r.account_id),
    providerId: String(r.provider_id),
    attemptNumber: Number(r.attempt_number),
    ok: Number(r.ok) === 1,
    category: r.retry_category === null ? "" : String(r.retry_category),
    bytesOut: Number(r.bytes_out),
    latencyMs: r.latency_ms === null ? null : Number(r.latency_ms),
  };
}

/**
 * The one successful attempt a lean request row stands for (0002: a request
 * answered on its first try stores no attempt row), from its
 * `account_id, provider_id, bytes_out, latency_ms`.
 */
export function impliedAttemptValues(r: Record<string, unknown>): AttemptDayValues {
  return {
    accountId: Number(r.account_id),
    providerId: r.provider_id === null ? "" : String(r.provider_id),
    attemptNumber: 1,
    ok: true,
    category: "",
    bytesOut: Number(r.bytes_out),
    latencyMs: r.latency_ms === null ? null : Number(r.latency_ms),
  };
}

/** The attempts of a stored request as the day rollups count them (see insertAttempts). */
function storedAttemptValues(db: Db, requestRowId: number): AttemptDayValues[] {
  const out = db.stmt(
    `SELECT attempt_number, account_id, provider_id, error_class IS NULL AS ok, retry_category,
      bytes_out, latency_ms FROM request_attempts WHERE request_id = ?`,
  ).all(requestRowId).map(attemptRowValues);
  if (out.length > 0) return out;
  const r = db.stmt(
    `SELECT account_id, provider_id, bytes_out, latency_ms FROM requests
     WHERE id = ? AND attempt_count = 1 AND account_id IS NOT NULL`,
  ).get(requestRowId);
  return r === undefined ? [] : [impliedAttemptValues(r)];
}

/** Counters of one usage_rollups row; several requests are summed before one upsert. */
export interface RollupRow {
  bucketMs: number;
  bucketStart: number;
  accountId: number;
  providerId: string;
  modelId: string;
  clientProtocol: string;
  streamed: boolean;
  status: string;
  requestCount: number;
  attemptCount: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  costMicros: number;
  bytesIn: number;
  bytesOut: number;
  latencyMsSum: number;
  latencyCount: number;
  latencyMsMax: number;
  firstByteMsSum: number;
  firstByteCount: number;
  updatedAt: number;
}

/** The rollup key and counters of one finished request. */
export function rollupOf(
  ids: IdLookup,
  bucketMs: number,
  start: RequestStart,
  o: RequestOutcome,
): RollupRow {
  const latency = int(o.latencyMs);
  const firstByte = int(o.firstByteMs);
  return {
    bucketMs,
    bucketStart: Math.floor(start.startedAt / bucketMs) * bucketMs,
    accountId: ids.accountId(o.accountName) ?? 0,
    providerId: text(o.providerId) ?? "",
    modelId: text(o.modelId) ?? "",
    clientProtocol: start.clientProtocol,
    streamed: start.streamed,
    status: o.status,
    requestCount: 1,
    attemptCount: o.attempts.length,
    inputTokens: o.inputTokens,
    outputTokens: o.outputTokens,
    cacheReadTokens: o.cacheReadTokens,
    cacheWriteTokens: o.cacheWriteTokens,
    reasoningTokens: o.reasoningTokens,
    costMicros: o.costMicros,
    bytesIn: start.bytesIn,
    bytesOut: o.bytesOut,
    latencyMsSum: latency ?? 0,
    latencyCount: latency === null ? 0 : 1,
    latencyMsMax: latency ?? 0,
    firstByteMsSum: firstByte ?? 0,
    firstByteCount: firstByte === null ? 0 : 1,
    updatedAt: o.completedAt,
  };
}

/** The identity of a rollup row, for summing in memory before the upsert. */
export function rollupKey(r: RollupRow): string {
  return [
    r.bucketMs,
    r.bucketStart,
    r.accountId,
    r.providerId,
    r.modelId,
    r.clientProtocol,
    r.streamed ? 1 : 0,
    r.status,
  ].join("\u0000");
}

/** Adds `b`'s counters into `a` (same key). */
export function mergeRollup(a: RollupRow, b: RollupRow): void {
  a.requestCount += b.requestCount;
  a.attemptCount += b.attemptCount;
  a.inputTokens += b.inputTokens;
  a.outputTokens += b.outputTokens;
  a.cacheReadTokens += b.cacheReadTokens;
  a.cacheWriteTokens += b.cacheWriteTokens;
  a.reasoningTokens += b.reasoningTokens;
  a.costMicros += b.costMicros;
  a.bytesIn += b.bytesIn;
  a.bytesOut += b.bytesOut;
  a.latencyMsSum += b.latencyMsSum;
  a.latencyCount += b.latencyCount;
  a.latencyMsMax = Math.max(a.latencyMsMax, b.latencyMsMax);
  a.firstByteMsSum += b.firstByteMsSum;
  a.firstByteCount += b.firstByteCount;
  a.updatedAt = Math.max(a.updatedAt, b.updatedAt);
}

/** Adds a summed rollup row to its bucket (insert or add to the existing counters). */
export function upsertRollup(db: Db, r: RollupRow): void {
  db.stmt(UPSERT_ROLLUP).run(
    r.bucketMs,
    r.bucketStart,
    r.accountId,
    r.providerId,
    r.modelId,
    r.clientProtocol,
    r.streamed ? 1 : 0,
    r.status,
    r.requestCount,
    r.attemptCount,
    r.inputTokens,
    r.outputTokens,
    r.cacheReadTokens,
    r.cacheWriteTokens,
    r.reasoningTokens,
    r.costMicros,
    r.bytesIn,
    r.bytesOut,
    r.latencyMsSum,
    r.latencyCount,
    r.latencyMsMax,
    r.firstByteMsSum,
    r.firstByteCount,
    r.updatedAt,
  );
}

/**
 * Finalizes rows left `pending` by a process that died (spec 03 §11.1):
 * they become `interrupted`, and their open attempts are closed too.
 * With `startedBefore`, only older rows are touched and `skip` ids are kept
 * (the periodic stale-request finalizer). Returns how many rows changed.
 */
export function interruptPending(
  db: Db,
  now: number,
  options: { startedBefore?: number; skip?: ReadonlySet<string>; errorClass: string },
): number {
  const before = options.startedBefore ?? Number.MAX_SAFE_INTEGER;
  return db.transaction(() => {
    const rows = db.stmt(
      `SELECT id, proxy_request_id, started_at, streamed, bytes_in, client_ip FROM requests
       WHERE status = 'pending' AND started_at < ?`,
    ).all(before);
    const days = new DayRollups();
    let changed = 0;
    const closeRequest = db.stmt(
      `UPDATE requests SET status = 'interrupted', completed_at = ?, error_class = ?,
         error_message = 'The request was still open when EggPool stopped or lost track of it'
       WHERE id = ? AND status = 'pending'`,
    );
    const closeAttempts = db.stmt(
      `UPDATE request_attempts SET completed_at = ?, error_class = ?, retry_category = 'none'
       WHERE request_id = ? AND completed_at IS NULL`,
    );
    for (const row of rows) {
      if (options.skip?.has(String(row.proxy_request_id))) continue;
      // Attempts still open change outcome: their share of the rollups is taken out and put back.
      const open = Number(
        db.stmt(
          "SELECT count(*) AS n FROM request_attempts WHERE request_id = ? AND completed_at IS NULL",
        ).get(row.id as number)?.n,
      );
      const startedAt = Number(row.started_at);
      if (open > 0) days.addAttempts(startedAt, storedAttemptValues(db, row.id as number), -1);
      const result = closeRequest.run(now, options.errorClass, row.id as number);
      closeAttempts.run(now, options.errorClass, row.id as number);
      if (open > 0) days.addAttempts(startedAt, storedAttemptValues(db, row.id as number));
      changed += Number(result.changes);
      if (Number(result.changes) === 0) continue;
      const pending = pendingValues(
        Number(row.started_at),
        Number(row.streamed) === 1,
        Number(row.bytes_in),
        row.client_ip === null ? null : String(row.client_ip),
      );
      days.add(pending, -1);
      days.add({ ...pending, status: "interrupted" });
    }
    days.write(db);
    return changed;
  });
}

/**
 * Appends a process-level event (crash recovery, stats write failures, ...).
 * Details longer than MAX_EVENT_DETAILS_CHARS once serialized are stored cut,
 * as `{"cut": true, "head": "<first characters>"}`, so an event quoting a
 * client's or upstream's text can never grow without bound.
 */
export function insertOperationalEvent(
  db: Db,
  eventType: string,
  details: Record<string, unknown>,
  occurredAt: number,
): void {
  let json = JSON.stringify(details);
  if (json.length > MAX_EVENT_DETAILS_CHARS) {
    json = JSON.stringify({ cut: true, head: boundText(json, MAX_EVENT_DETAILS_CHARS) });
  }
  db.stmt(
    "INSERT INTO operational_events (event_type, details_json, occurred_at) VALUES (?, ?, ?)",
  ).run(boundText(eventType, MAX_ID_CHARS), json, occurredAt);
}

/** Counts rows by status; used by tests, `/v1/readyz` and the runtime view. */
export function countByStatus(db: Db): Record<string, number> {
  const out: Record<string, number> = {};
  for (const row of db.stmt("SELECT status, count(*) AS n FROM requests GROUP BY status").all()) {
    out[String(row.status)] = Number(row.n);
  }
  return out;
}
