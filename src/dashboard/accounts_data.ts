/**
 * Gathers the Accounts page's rows: configured accounts and their routing
 * state from the pool, usage over the period from storage, and prompt-cache
 * affinity figures from the pin book.
 */
import type { AccountStatus } from "../accounts/status.ts";
import type { Db } from "../storage/db.ts";
import type { UsageTotals } from "../storage/dashboard_repo.ts";
import { periodUsage, zeroUsage } from "./page_usage.ts";
import { failedAttemptsByAccount } from "../storage/account_events_repo.ts";
import type { WindowStatus } from "../accounts/status.ts";
import type { AccountRow, ModelCacheRow, WindowUse } from "./views/types.ts";
import { formatTime } from "./views/_format.ts";

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

/** An account without requests in the period: zeros, and no cost estimate ("—"). */
const EMPTY: UsageTotals = { ...zeroUsage(), estimatedCostMicros: undefined };

function inputOf(u: UsageTotals): number {
  return u.freshInputTokens + u.cacheReadTokens + u.cacheWriteTokens;
}

function shareOf(u: UsageTotals): number | undefined {
  const input = inputOf(u);
  return input === 0 ? undefined : u.cacheReadTokens / input;
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
    reasoningTokens: u.reasoningTokens,
    costMicros: u.costMicros,
    estimatedCostMicros: u.estimatedCostMicros,
    avgLatencyMs: u.latencyCount === 0 ? undefined : u.latencyMsSum / u.latencyCount,
    tokensPerSecond: latencyS > 0 ? u.outputTokens / latencyS : undefined,
    cacheShare: shareOf(u),
    bytesIn: u.bytesIn ?? 0,
    bytesOut: u.bytesOut ?? 0,
  };
}

function windowUse(w: WindowStatus | undefined): WindowUse | undefined {
  if (w === undefined) return undefined;
  return {
    requests: w.requests,
    requestLimit: w.requestLimit,
    tokens: w.tokens,
    tokenLimit: w.tokenLimit,
    spentMicros: w.costMicros + (w.offsetMicros ?? 0),
    limitMicros: w.limitMicros,
  };
}

/** Beside the badge: until when the state holds, or since when a lapsed backoff went unanswered. */
function healthNote(s: AccountStatus, now: number): string | undefined {
  const h = s.health;
  if (h.untilMs === null) return "until the key changes";
  if (h.untilMs === undefined) return undefined;
  if (h.untilMs > now) return `until ${formatTime(h.untilMs)}`;
  const last = h.lastFailureAt === undefined ? "" : `; last failure ${formatTime(h.lastFailureAt)}`;
  return `backoff over, no success since${last}`;
}

function statusFields(s: AccountStatus, now: number) {
  // An account-wide backoff says more than a model-scoped one.
  const backoff = s.backoffs.find((b) => b.modelId === undefined) ?? s.backoffs[0];
  const failures = Math.max(
    s.circuit.consecutiveFailures,
    ...s.backoffs.map((b) => b.consecutiveFailures),
  );
  return {
    health: s.health.state,
    healthNote: healthNote(s, now),
    windows: [
      windowUse(s.windows["5h"]),
      windowUse(s.windows["7d"]),
      windowUse(s.windows["30d"]),
    ] as const,
    reservations: s.inFlight,
    reservedTokens: s.reservedTokens,
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
  const period = periodUsage(source.db, { label: "custom", start: since, end: now + 1 });
  const usage = new Map(period.accounts.map((u) => [u.account, u]));
  const failed = failedAttemptsByAccount(source.db, since);
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
    failedAttempts: failed.get(s.name) ?? 0,
    ...statusFields(s, now),
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
      failedAttempts: failed.get(u.account) ?? 0,
      windows: [undefined, undefined, undefined],
      failures: 0,
      ...affinity(u.account),
    });
  }
  const models = period.models.map((u): ModelCacheRow => ({
    modelId: u.modelId,
    requests: u.requests,
    inputTokens: inputOf(u),
    cacheReadTokens: u.cacheReadTokens,
    cacheShare: shareOf(u),
    moves: pins?.movesOfModel(u.modelId) ?? {},
  }));
  return { accounts, models };
}
