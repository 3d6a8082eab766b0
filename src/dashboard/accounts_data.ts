/**
 * Gathers the Accounts page's rows: configured accounts and their routing
 * state from the pool, usage over the period from storage, and prompt-cache
 * affinity figures from the pin book.
 */
import type { AccountStatus } from "../accounts/status.ts";
import type { Db } from "../storage/db.ts";
import { accountUsage, modelUsage } from "../storage/dashboard_repo.ts";
import type { UsageTotals } from "../storage/dashboard_repo.ts";
import type { AccountRow, HealthState, ModelCacheRow } from "./views/types.ts";

/** Where the page's data comes from. */
export interface AccountsSource {
  db: Db;
  /** Flushes buffered stats first, so the page includes the latest requests. */
  flush(): void;
  pool: { status(now?: number): AccountStatus[] };
  /** The pin book; undefined when `[routing].affinity = "off"`. */
  pins?: {
    liveCount(account: string): number;
    movesFrom(account: string): Record<string, number>;
    movesOfModel(modelId: string): Record<string, number>;
  };
}

/** What the page shows, before the disabled filter. */
export interface AccountsData {
  accounts: AccountRow[];
  models: ModelCacheRow[];
}

const EMPTY: UsageTotals = {
  requests: 0,
  errors: 0,
  freshInputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
  costMicros: 0,
  latencyMsSum: 0,
  latencyCount: 0,
};

function inputOf(u: UsageTotals): number {
  return u.freshInputTokens + u.cacheReadTokens + u.cacheWriteTokens;
}

function shareOf(u: UsageTotals): number | undefined {
  const input = inputOf(u);
  return input === 0 ? undefined : u.cacheReadTokens / input;
}

/** The badge state: operator and credential problems first, then backoffs, then the breaker. */
export function healthOf(s: AccountStatus): HealthState {
  if (!s.enabled) return "disabled";
  if (!s.hasKey) return "no_key";
  const wide = s.backoffs.filter((b) => b.modelId === undefined).map((b) => b.reason);
  if (wide.includes("authentication_failed")) return "auth_failed";
  if (wide.includes("quota_exhausted")) return "quota_exhausted";
  if (wide.includes("rate_limited")) return "rate_limited";
  if (s.circuit.state === "open") return "circuit_open";
  if (wide.length > 0 || s.circuit.state === "half_open") return "cooldown_active";
  return "healthy";
}

function usageFields(u: UsageTotals) {
  const latencyS = u.latencyMsSum / 1000;
  return {
    requests: u.requests,
    errors: u.errors,
    inputTokens: inputOf(u),
    outputTokens: u.outputTokens,
    cacheReadTokens: u.cacheReadTokens,
    cacheWriteTokens: u.cacheWriteTokens,
    costMicros: u.costMicros,
    avgLatencyMs: u.latencyCount === 0 ? undefined : u.latencyMsSum / u.latencyCount,
    tokensPerSecond: latencyS > 0 ? u.outputTokens / latencyS : undefined,
    cacheShare: shareOf(u),
  };
}

function statusFields(s: AccountStatus) {
  // An account-wide backoff says more than a model-scoped one.
  const backoff = s.backoffs.find((b) => b.modelId === undefined) ?? s.backoffs[0];
  const failures = Math.max(
    s.circuit.consecutiveFailures,
    ...s.backoffs.map((b) => b.consecutiveFailures),
  );
  return {
    health: healthOf(s),
    utilization: [
      s.windows["5h"]?.spendRatio,
      s.windows["7d"]?.spendRatio,
      s.windows["30d"]?.spendRatio,
    ] as const,
    backoffReason: backoff === undefined
      ? undefined
      : backoff.modelId === undefined
      ? backoff.reason
      : `${backoff.reason} (${backoff.modelId})`,
    backoffUntil: backoff === undefined ? undefined : backoff.untilMs ?? null,
    failures,
  };
}

/** Loads every account (configured ones, then ones with history only) and every model. */
export function loadAccountsData(source: AccountsSource, since: number, now: number): AccountsData {
  source.flush();
  const usage = new Map(accountUsage(source.db, since).map((u) => [u.account, u]));
  const pins = source.pins;
  const affinity = (name: string) => ({
    livePins: pins?.liveCount(name) ?? 0,
    moves: pins?.movesFrom(name) ?? {},
  });
  const accounts: AccountRow[] = source.pool.status(now).map((s) => ({
    name: s.name,
    providerId: s.providerId,
    enabled: s.enabled,
    configured: true,
    ...usageFields(usage.get(s.name) ?? EMPTY),
    ...statusFields(s),
    ...affinity(s.name),
  }));
  const known = new Set(accounts.map((a) => a.name));
  for (const u of usage.values()) {
    if (known.has(u.account)) continue;
    accounts.push({
      name: u.account,
      providerId: u.providerId,
      enabled: false,
      configured: false,
      health: "disabled",
      ...usageFields(u),
      utilization: [undefined, undefined, undefined],
      failures: 0,
      ...affinity(u.account),
    });
  }
  const models = modelUsage(source.db, since).map((u): ModelCacheRow => ({
    modelId: u.modelId,
    requests: u.requests,
    inputTokens: inputOf(u),
    cacheReadTokens: u.cacheReadTokens,
    cacheShare: shareOf(u),
    moves: pins?.movesOfModel(u.modelId) ?? {},
  }));
  return { accounts, models };
}
