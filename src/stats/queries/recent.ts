/**
 * The latest requests and one request in full (always key-gated): metadata
 * only. Never a body, the stored error message or the client IP.
 */
import type { Db } from "../../storage/db.ts";
import { listRoutingDecisions } from "../../storage/routing_repo.ts";
import { iso, num, numOrNull, strOrNull } from "./_sql.ts";
import { isTranscoded, SURFACE_OF_ROW } from "./transcoding.ts";

/** Request statuses a filter may name. */
export const REQUEST_STATUSES = [
  "pending",
  "completed",
  "client_error",
  "cancelled",
  "error",
  "interrupted",
] as const;

const COLUMNS = `r.id, r.proxy_request_id, r.started_at, r.first_attempt_at, r.completed_at,
  r.status, r.status_code, r.error_class, r.requested_model, r.model_id, r.provider_id,
  a.name AS account_name, r.client_protocol, r.upstream_protocol, r.streamed, r.attempt_count,
  r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens,
  r.reasoning_tokens, r.cost_microdollars, r.cost_exactness, r.latency_ms, r.first_byte_ms,
  r.bytes_in, r.bytes_out, r.upstream_request_id, ${SURFACE_OF_ROW} AS client_surface,
  t.dropped_fields, t.dropped_names`;

/** The request rows with their account and reach (migration 0007's side row). */
const FROM = `FROM requests r LEFT JOIN accounts a ON a.id = r.account_id
  LEFT JOIN request_transcodes t ON t.request_id = r.id`;

/** The stored dropped names (a JSON array the writer made), or none. */
function droppedNames(raw: unknown): string[] {
  if (typeof raw !== "string") return [];
  try {
    const v: unknown = JSON.parse(raw);
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}

function requestJson(r: Record<string, unknown>) {
  return {
    id: num(r.id),
    request_id: String(r.proxy_request_id),
    started_at: iso(r.started_at),
    first_attempt_at: iso(r.first_attempt_at),
    completed_at: iso(r.completed_at),
    status: String(r.status),
    status_code: numOrNull(r.status_code),
    error_class: strOrNull(r.error_class),
    requested_model: String(r.requested_model),
    model_id: strOrNull(r.model_id),
    provider_id: strOrNull(r.provider_id),
    account_name: strOrNull(r.account_name),
    client_protocol: String(r.client_protocol),
    client_surface: String(r.client_surface),
    upstream_protocol: strOrNull(r.upstream_protocol),
    transcoded: r.upstream_protocol !== null &&
      isTranscoded(String(r.client_surface), String(r.upstream_protocol)),
    dropped_fields: num(r.dropped_fields),
    dropped_field_names: droppedNames(r.dropped_names),
    streamed: num(r.streamed) === 1,
    attempt_count: num(r.attempt_count),
    input_tokens: num(r.input_tokens),
    output_tokens: num(r.output_tokens),
    cache_read_tokens: num(r.cache_read_tokens),
    cache_write_tokens: num(r.cache_write_tokens),
    reasoning_tokens: num(r.reasoning_tokens),
    total_tokens: num(r.input_tokens) + num(r.output_tokens),
    cost_microdollars: num(r.cost_microdollars),
    cost_exactness: String(r.cost_exactness),
    latency_ms: numOrNull(r.latency_ms),
    first_byte_ms: numOrNull(r.first_byte_ms),
    bytes_received: num(r.bytes_in),
    bytes_emitted: num(r.bytes_out),
    upstream_request_id: strOrNull(r.upstream_request_id),
  };
}

/** Exact filters of `/api/stats/recent-requests`. */
export interface RecentFilters {
  accountId?: number;
  providerId?: string;
  modelId?: string;
  status?: string;
}

/** The `limit` latest requests matching the filters, newest first. */
export function recentRequests(db: Db, limit: number, f: RecentFilters) {
  const where: string[] = [];
  const params: (number | string)[] = [];
  if (f.accountId !== undefined) (where.push("r.account_id = ?"), params.push(f.accountId));
  if (f.providerId !== undefined) (where.push("r.provider_id = ?"), params.push(f.providerId));
  if (f.modelId !== undefined) (where.push("r.model_id = ?"), params.push(f.modelId));
  if (f.status !== undefined) (where.push("r.status = ?"), params.push(f.status));
  const sql = `SELECT ${COLUMNS} ${FROM}
    ${where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`}
    ORDER BY r.started_at DESC, r.id DESC LIMIT ?`;
  return db.stmt(sql).all(...params, limit).map(requestJson);
}

const ATTEMPTS = `SELECT ra.attempt_number, a.name AS account_name, ra.provider_id, ra.model_id,
  ra.upstream_protocol, ra.started_at, ra.completed_at, ra.status_code, ra.error_class,
  ra.retry_category, ra.backoff_reason, ra.latency_ms, ra.first_byte_ms, ra.bytes_out,
  ra.upstream_request_id
  FROM request_attempts ra LEFT JOIN accounts a ON a.id = ra.account_id
  WHERE ra.request_id = ? ORDER BY ra.attempt_number`;

/**
 * One request with its attempts and routing decisions, or undefined. A
 * request whose single attempt succeeded has no attempt row; its attempt is
 * described from the request row.
 */
export function requestDetail(db: Db, id: number) {
  const row = db.stmt(`SELECT ${COLUMNS} ${FROM} WHERE r.id = ?`).get(id);
  if (row === undefined) return undefined;
  const request = requestJson(row);
  let attempts = db.stmt(ATTEMPTS).all(id).map((a) => ({
    attempt_number: num(a.attempt_number),
    account_name: strOrNull(a.account_name),
    provider_id: String(a.provider_id),
    model_id: String(a.model_id),
    upstream_protocol: String(a.upstream_protocol),
    started_at: iso(a.started_at),
    completed_at: iso(a.completed_at),
    status_code: numOrNull(a.status_code),
    error_class: strOrNull(a.error_class),
    retry_category: strOrNull(a.retry_category),
    backoff_reason: strOrNull(a.backoff_reason),
    latency_ms: numOrNull(a.latency_ms),
    first_byte_ms: numOrNull(a.first_byte_ms),
    bytes_emitted: num(a.bytes_out),
    upstream_request_id: strOrNull(a.upstream_request_id),
  }));
  if (attempts.length === 0 && request.attempt_count === 1) {
    attempts = [{
      attempt_number: 1,
      account_name: request.account_name,
      provider_id: request.provider_id ?? "",
      model_id: request.model_id ?? "",
      upstream_protocol: request.upstream_protocol ?? "",
      started_at: request.first_attempt_at,
      completed_at: request.completed_at,
      status_code: request.status_code,
      error_class: request.error_class,
      retry_category: null,
      backoff_reason: null,
      latency_ms: request.latency_ms,
      first_byte_ms: request.first_byte_ms,
      bytes_emitted: request.bytes_emitted,
      upstream_request_id: request.upstream_request_id,
    }];
  }
  return { request, attempts, routing_decisions: listRoutingDecisions(db, id) };
}
