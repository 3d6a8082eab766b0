/**
 * Events, pings, pending requests and price provenance for the stats API.
 * Event details are shown with every field that may carry upstream text, a
 * credential or an address removed, and strings cut short.
 */
import type { Db } from "../../storage/db.ts";
import type { StatsPeriod } from "./period.ts";
import { avg, iso, num, numOrNull, strOrNull } from "./_sql.ts";
import { rollupsOff } from "./_days.ts";
import { DAY_MS } from "./_slots.ts";

/** Detail fields never shown: upstream error text and anything that may hold a secret or an IP. */
const HIDDEN_DETAIL =
  /detail|message|body|prompt|reply|content|api_?key|(^|_)key$|token_value|secret|authorization|password|cookie|credential|(^|_)ip$/i;
/** Longest string value shown in event details. */
const DETAIL_TEXT_MAX = 200;

/** An event's stored details as an object without hidden fields. */
export function safeDetails(json: unknown): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(json));
  } catch {
    return {};
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (HIDDEN_DETAIL.test(k)) continue;
    if (typeof v === "string") {
      out[k] = v.length > DETAIL_TEXT_MAX ? `${v.slice(0, DETAIL_TEXT_MAX - 1)}…` : v;
    } else if (v === null || typeof v === "number" || typeof v === "boolean") {
      out[k] = v;
    } else {
      const text = JSON.stringify(v);
      if (text.length <= DETAIL_TEXT_MAX) out[k] = v;
    }
  }
  return out;
}

/** `/api/events`: account events, newest first, optionally of one type. */
export function accountEvents(db: Db, limit: number, type?: string) {
  const sql = `SELECT e.id, e.account_id, a.name, e.event_type, e.details_json, e.occurred_at
    FROM account_events e LEFT JOIN accounts a ON a.id = e.account_id
    ${type === undefined ? "" : "WHERE e.event_type = ?"}
    ORDER BY e.occurred_at DESC, e.id DESC LIMIT ?`;
  const params = type === undefined ? [limit] : [type, limit];
  return db.stmt(sql).all(...params).map((r) => ({
    id: num(r.id),
    account_id: num(r.account_id),
    account_name: strOrNull(r.name),
    event_type: String(r.event_type),
    details: safeDetails(r.details_json),
    created_at: iso(r.occurred_at),
  }));
}

/** `/api/stats/operational`: process events in the period by type, and the latest ones. */
export function operationalEvents(db: Db, p: StatsPeriod, limit: number, type?: string) {
  const filter = type === undefined ? "" : " AND e.event_type = ?";
  const params: (number | string)[] = type === undefined
    ? [p.start, p.end]
    : [p.start, p.end, type];
  const summary = db.stmt(`SELECT e.event_type, count(*) AS n, max(e.occurred_at) AS last_at
    FROM operational_events e WHERE e.occurred_at >= ? AND e.occurred_at < ?${filter}
    GROUP BY e.event_type ORDER BY n DESC, e.event_type`).all(...params).map((r) => ({
    event_type: String(r.event_type),
    count: num(r.n),
    last_at: iso(r.last_at),
  }));
  const recent = db.stmt(`SELECT e.id, e.event_type, e.details_json, e.occurred_at
    FROM operational_events e WHERE e.occurred_at >= ? AND e.occurred_at < ?${filter}
    ORDER BY e.occurred_at DESC, e.id DESC LIMIT ?`).all(...params, limit).map((r) => ({
    id: num(r.id),
    event_type: String(r.event_type),
    details: safeDetails(r.details_json),
    created_at: iso(r.occurred_at),
  }));
  return { summary, recent };
}

/** Most recent pings listed. */
const RECENT_PINGS = 50;

/**
 * `/api/stats/pings`: model-list fetches as latency pings (spec 03 §1.2). A
 * ping is ok when it got a 2xx; its error text is not shown.
 */
export function pings(db: Db, p: StatsPeriod, providerId?: string) {
  const filter = providerId === undefined ? "" : " AND g.provider_id = ?";
  const params: (number | string)[] = providerId === undefined
    ? [p.start, p.end]
    : [p.start, p.end, providerId];
  const rows = db.stmt(`SELECT g.provider_id, g.latency_ms, g.status_code, g.probed_at
    FROM provider_pings g WHERE g.probed_at >= ? AND g.probed_at < ?${filter}
    ORDER BY g.probed_at`).all(...params);
  const groups = new Map<string, Record<string, unknown>[]>();
  for (const r of rows) {
    const k = String(r.provider_id);
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(r);
  }
  const ok = (r: Record<string, unknown>) => num(r.status_code) >= 200 && num(r.status_code) < 300;
  const summary = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, list]) => {
    const lat = list.filter((r) => r.latency_ms !== null).map((r) => num(r.latency_ms))
      .sort((a, b) => a - b);
    const last = list[list.length - 1];
    return {
      provider_id: k,
      pings: list.length,
      ok: list.filter(ok).length,
      failed: list.length - list.filter(ok).length,
      avg_latency_ms: avg(lat.reduce((s, v) => s + v, 0), lat.length),
      p95_latency_ms: lat.length === 0 ? null : lat[Math.ceil(0.95 * lat.length) - 1],
      last_probed_at: iso(last.probed_at),
      last_status_code: numOrNull(last.status_code),
    };
  });
  const recent = db.stmt(`SELECT g.id, g.provider_id, a.name, g.probed_at, g.latency_ms,
      g.status_code, g.model_count
    FROM provider_pings g LEFT JOIN accounts a ON a.id = g.account_id
    WHERE g.probed_at >= ? AND g.probed_at < ?${filter}
    ORDER BY g.probed_at DESC, g.id DESC LIMIT ${RECENT_PINGS}`).all(...params).map((r) => ({
    id: num(r.id),
    provider_id: String(r.provider_id),
    account_name: strOrNull(r.name),
    probed_at: iso(r.probed_at),
    latency_ms: numOrNull(r.latency_ms),
    status_code: numOrNull(r.status_code),
    ok: ok(r),
    model_count: numOrNull(r.model_count),
  }));
  return { summary, recent };
}

/** A pending request older than this is stale (spec 01 §7: 900 s). */
export const STALE_PENDING_MS = 900_000;

/** `/api/stats/pending-health`, from the partial index over pending rows. */
export function pendingHealth(db: Db, now: number) {
  const row = db.stmt(`SELECT count(*) AS n, min(started_at) AS oldest,
    total(started_at < ?) AS stale FROM requests WHERE status = 'pending'`)
    .get(now - STALE_PENDING_MS) ?? {};
  return {
    pending_count: num(row.n),
    oldest_pending_age_seconds: row.oldest === null || row.oldest === undefined
      ? null
      : Math.max(0, Math.round((now - num(row.oldest)) / 1000)),
    stale_pending: num(row.stale),
    stale_after_seconds: STALE_PENDING_MS / 1000,
  };
}

/** How far back pricing provenance looks for models that were used. */
const PROVENANCE_WINDOW_MS = 30 * 86_400_000;

/** Per-category rates in µ$ per million tokens, as the proxy's price book gives them. */
export interface PriceRates {
  inputMicrosPerMillion?: number;
  outputMicrosPerMillion?: number;
  cacheReadMicrosPerMillion?: number;
  cacheWriteMicrosPerMillion?: number;
}

/**
 * `/api/stats/pricing-provenance`: for every (provider, model) in the
 * catalog or in the last 30 days of requests, where its price comes from. EggPool prices
 * from the config's `model_overrides` only; anything else is charged at the
 * generic default rates (cost exactness `estimated`).
 */
export function pricingProvenance(
  db: Db,
  now: number,
  price: (providerId: string, modelId: string) => PriceRates | undefined,
) {
  // The window's whole days from the day rollups (migration 0004), its first
  // partial day from the rows.
  const since = now - PROVENANCE_WINDOW_MS;
  const day = rollupsOff() ? Number.MAX_SAFE_INTEGER : Math.ceil(since / DAY_MS) * DAY_MS;
  const pairs = db.stmt(`SELECT provider_id, model_id FROM provider_models
    UNION SELECT provider_id, model_id FROM request_days
      WHERE day >= ? AND n <> 0 AND provider_id <> '' AND model_id <> ''
    UNION SELECT r.provider_id, r.model_id FROM requests r WHERE r.started_at >= ?
      AND r.started_at < ? AND r.provider_id IS NOT NULL AND r.model_id IS NOT NULL
    ORDER BY 1, 2`).all(day, since, day);
  return pairs.map((r) => {
    const providerId = String(r.provider_id);
    const modelId = String(r.model_id);
    const rates = price(providerId, modelId);
    const values = [
      rates?.inputMicrosPerMillion,
      rates?.outputMicrosPerMillion,
      rates?.cacheReadMicrosPerMillion,
      rates?.cacheWriteMicrosPerMillion,
    ];
    return {
      provider_id: providerId,
      model_id: modelId,
      source: rates === undefined ? "generic_default" : "config",
      source_detail: rates === undefined ? "no model_overrides price" : "model_overrides",
      source_confidence: rates === undefined ? "low" : "high",
      priced_category_count: values.filter((v) => v !== undefined).length,
      input_microdollars_per_mtok: rates?.inputMicrosPerMillion ?? null,
      output_microdollars_per_mtok: rates?.outputMicrosPerMillion ?? null,
      cache_read_microdollars_per_mtok: rates?.cacheReadMicrosPerMillion ?? null,
      cache_write_microdollars_per_mtok: rates?.cacheWriteMicrosPerMillion ?? null,
    };
  });
}
