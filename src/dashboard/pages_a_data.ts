/**
 * Data of the Reliability, Routing, Cache, Models, Latency and Pings pages
 * (spec 06 §4), read through the stats API's own queries (`stats/queries/`)
 * so a page and its JSON endpoint never disagree. Plain objects out; the
 * views only format them.
 */
import type { Db } from "../storage/db.ts";
import { cacheShares } from "../storage/cache_stats_repo.ts";
import type { StatsPeriod } from "../stats/queries/period.ts";
import {
  attemptRows,
  latency,
  retryDistribution,
  summarizeAttempts,
  summarizeSums,
} from "../stats/queries/latency.ts";
import { attemptSums, hasWholeDays } from "../stats/queries/attempt_days.ts";
import { operationalEvents, pendingHealth, pings } from "../stats/queries/events.ts";
import {
  routingDecisionTotals,
  routingDistribution,
  routingExclusions,
  routingSelections,
  routingSkew,
  selectionCounts,
} from "../stats/queries/routing.ts";
import { transcodingStats } from "../stats/queries/transcoding.ts";
import { modelStats } from "../stats/queries/usage.ts";
import { catalogRows, infoSummary } from "./model_info.ts";
import { latestDecisionAt } from "../stats/queries/attempt_days.ts";

/** Where these pages read from. */
export interface PagesASource {
  db: Db;
  /** Flushes buffered stats first, so a page includes the latest requests. */
  flush(): void;
  /** The pin book; undefined when `[routing].affinity = "off"`. */
  pins?: {
    movesFrom(account: string): Record<string, number>;
    movesOfModel(modelId: string): Record<string, number>;
  };
  /** `[routing.trace]` as configured (the Routing page's diagnostics); off when absent. */
  routingTrace?: RoutingTraceSettings;
  /** Provider id → its configured `routing_priority` (the Models page's Priority column). */
  priorities?: Readonly<Record<string, number>>;
}

/** The part of `[routing.trace]` the Routing page reports. */
export interface RoutingTraceSettings {
  mode: "all" | "sampled" | "off";
  sample_rate: number;
  include_score_components: boolean;
}

/** Operational events listed on the Reliability page. */
const OPERATIONAL_ROWS = 20;

/** Retry categories (spec 03 §9.1 and the failure classes we record) by the spec 06 label. */
const RETRY_LABELS: Readonly<Record<string, string>> = {
  quota_exhausted: "Quota exceeded",
  quota: "Quota exceeded",
  temporary: "Temporary upstream",
  overloaded: "Temporary upstream",
  pool_timeout: "Temporary upstream",
  transient: "Transient upstream",
  server_error: "Transient upstream",
  timeout: "Transient upstream",
  transport: "Transient upstream",
  auth_failed: "Auth failure",
  auth: "Auth failure",
  rate_limited: "Rate limited",
  model_unavailable: "Model unavailable",
  client_error: "Bad request",
  bad_request: "Bad request",
  none: "No retry",
  never: "Fatal error",
  fatal: "Fatal error",
};

/** The spec 06 label of a stored retry category. */
export function retryLabel(category: string | null): string {
  return category !== null && Object.hasOwn(RETRY_LABELS, category)
    ? RETRY_LABELS[category]
    : "Other";
}

/** Reliability: attempts, attempts per provider, retries by category, pending and process events. */
export function loadReliability(src: PagesASource, p: StatsPeriod, now: number) {
  src.flush();
  // Without a whole day the rows are read as before the rollups (the reference the tests use).
  if (!hasWholeDays(p)) return reliabilityFromRows(src, p, now);
  // One read of the period's attempt sums serves the totals and the per-provider split.
  const sums = attemptSums(src.db, p);
  const perProvider = new Map<string, { ok: number; failed: number }>();
  for (const [id, c] of sums.perProvider) {
    if (c.ok === 0 && c.failed === 0) continue;
    const k = id ?? "(unknown)";
    const had = perProvider.get(k) ?? { ok: 0, failed: 0 };
    perProvider.set(k, { ok: had.ok + c.ok, failed: had.failed + c.failed });
  }
  return reliabilityAnswer(src, p, now, summarizeSums(src.db, sums), perProvider);
}

/** {@linkcode loadReliability} from the period's attempt rows alone. */
function reliabilityFromRows(src: PagesASource, p: StatsPeriod, now: number) {
  // One read of the period's attempts serves the totals and the per-provider split.
  const rows = attemptRows(src.db, p, {});
  const perProvider = new Map<string, { ok: number; failed: number }>();
  for (const a of rows) {
    const k = a.providerId ?? "(unknown)";
    const c = perProvider.get(k) ?? { ok: 0, failed: 0 };
    if (a.ok) c.ok++;
    else c.failed++;
    perProvider.set(k, c);
  }
  return reliabilityAnswer(src, p, now, summarizeAttempts(rows), perProvider);
}

/** The Reliability page's data around the attempt totals, however they were summed. */
function reliabilityAnswer(
  src: PagesASource,
  p: StatsPeriod,
  now: number,
  attempts: ReturnType<typeof summarizeAttempts>,
  perProvider: Map<string, { ok: number; failed: number }>,
) {
  return {
    attempts,
    byProvider: [...perProvider.entries()].sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([providerId, c]) => ({ providerId, ...c })),
    retries: retryDistribution(src.db, p).map((r) => ({
      ...r,
      label: retryLabel(r.retry_category),
    })),
    pending: pendingHealth(src.db, now),
    operational: operationalEvents(src.db, p, OPERATIONAL_ROWS),
  };
}

/** Routing: skew, decisions, trace diagnostics, exclusions, distribution and selections. */
export function loadRouting(src: PagesASource, p: StatsPeriod) {
  src.flush();
  const counts = selectionCounts(src.db, p);
  const decisions = routingDecisionTotals(src.db, p);
  let attempts = 0;
  for (const c of counts.values()) attempts += c.n;
  const trace = src.routingTrace;
  return {
    skew: routingSkew(src.db, p, counts),
    decisions,
    trace: {
      mode: trace?.mode ?? "off",
      sampleRate: trace?.sample_rate ?? 0,
      scoreComponents: trace?.include_score_components ?? false,
      decisions: decisions.decisions,
      attempts,
      latestDecisionAt: latestDecisionAt(src.db, p),
    },
    selections: routingSelections(src.db, p, counts),
    exclusions: routingExclusions(src.db, p),
    distribution: routingDistribution(src.db, p),
    transcoding: transcodingStats(src.db, p),
  };
}

/** One account's or model's prompt-cache figures. */
export interface CacheRowData {
  key: string;
  requests: number;
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  cacheShare: number | undefined;
  moves: Readonly<Record<string, number>>;
}

/** Cache: the share of input read from provider prompt caches, per account and per model. */
export function loadCache(src: PagesASource, since: number) {
  src.flush();
  const rows = (by: "account" | "model") =>
    cacheShares(src.db, since, by).map((r): CacheRowData => {
      const input = r.freshInputTokens + r.cacheReadTokens + r.cacheWriteTokens;
      return {
        key: r.key,
        requests: r.requests,
        inputTokens: input,
        cacheReadTokens: r.cacheReadTokens,
        cacheWriteTokens: r.cacheWriteTokens,
        cacheShare: input === 0 ? undefined : r.cacheReadTokens / input,
        moves: (by === "account" ? src.pins?.movesFrom(r.key) : src.pins?.movesOfModel(r.key)) ??
          {},
      };
    }).sort((a, b) => b.requests - a.requests || (a.key < b.key ? -1 : 1));
  return { accounts: rows("account"), models: rows("model"), affinityOn: src.pins !== undefined };
}

/** Models: every model of the catalog and every model routed in the period, with usage. */
export function loadModels(src: PagesASource, p: StatsPeriod) {
  src.flush();
  const catalog = new Map<string, string[]>();
  for (
    const r of src.db.stmt(`SELECT model_id, provider_id FROM provider_models
      WHERE protocol IS NOT NULL ORDER BY model_id, provider_id`).all()
  ) {
    const id = String(r.model_id);
    (catalog.get(id) ?? catalog.set(id, []).get(id)!).push(String(r.provider_id));
  }
  const used = modelStats(src.db, p);
  const usedIds = new Set(used.map((m) => m.model_id));
  // Every catalog row, resolved or not, feeds the Info pill.
  const known = catalogRows(src.db);
  const info = (id: string) => infoSummary(known.get(id) ?? []);
  const priority = (a: readonly string[], b: readonly string[]) =>
    highestPriority(src.priorities, [...a, ...b]);
  const rows = used.map((m) => {
    const listedBy = catalog.get(m.model_id) ?? [];
    return {
      ...m,
      listedBy,
      info: info(m.model_id),
      priority: priority(m.providers, listedBy),
    };
  });
  for (const [id, providers] of catalog) {
    if (usedIds.has(id)) continue;
    rows.push({
      ...unusedModel(id, providers),
      listedBy: providers,
      info: info(id),
      priority: priority(providers, []),
    });
  }
  return { models: rows, catalogSize: catalog.size };
}

/**
 * The highest configured `routing_priority` among a model's providers (the
 * ones that served it in the period and the ones listing it), as the collapsed
 * `/v1/models` entry reports it; null when none of them is configured.
 */
function highestPriority(
  priorities: Readonly<Record<string, number>> | undefined,
  providers: readonly string[],
): number | null {
  let best: number | null = null;
  for (const p of providers) {
    const v = priorities !== undefined && Object.hasOwn(priorities, p) ? priorities[p] : undefined;
    if (v !== undefined && (best === null || v > best)) best = v;
  }
  return best;
}

function unusedModel(id: string, providers: string[]): ReturnType<typeof modelStats>[number] {
  return {
    model_id: id,
    providers,
    request_count: 0,
    successful_count: 0,
    error_count: 0,
    input_tokens: 0,
    output_tokens: 0,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    reasoning_tokens: 0,
    total_tokens: 0,
    cost_microdollars: 0,
    bytes_received: 0,
    bytes_emitted: 0,
    avg_latency_ms: null,
    avg_ttft_ms: null,
    exact_count: 0,
    derived_count: 0,
    partial_count: 0,
    estimated_count: 0,
    unknown_count: 0,
    provider_reported_count: 0,
    estimated_cost_sum_microdollars: 0,
    tokens_per_second: null,
  };
}

/** Latency: TTFT per provider and model, and the phases of a request's time. */
export function loadLatency(src: PagesASource, p: StatsPeriod) {
  src.flush();
  return latency(src.db, p);
}

/** Pings: model-list fetches per provider and the latest 50. */
export function loadPings(src: PagesASource, p: StatsPeriod) {
  src.flush();
  return pings(src.db, p);
}

/** The props each page's view takes besides the chrome. */
export type ReliabilityData = ReturnType<typeof loadReliability>;
export type RoutingData = ReturnType<typeof loadRouting>;
export type CacheData = ReturnType<typeof loadCache>;
export type ModelsData = ReturnType<typeof loadModels>;
export type LatencyData = ReturnType<typeof loadLatency>;
export type PingsData = ReturnType<typeof loadPings>;
