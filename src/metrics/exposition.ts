/**
 * The whole `GET /metrics` document: the request counters of
 * {@linkcode ProxyMetrics} plus gauges read at scrape time from the live
 * objects (requests in flight, backoffs, circuits and window utilization per
 * account, the stats write queue, memory and event-loop lag).
 */
import type { AccountStatus } from "../accounts/status.ts";
import type { BackoffReason } from "../accounts/backoffs.ts";
import type { HealthState } from "../accounts/health.ts";
import { BACKOFF_REASONS } from "../accounts/backoffs.ts";
import type { PerWindow } from "../routing/scorer.ts";
import { WINDOWS } from "../routing/windows.ts";
import type { LagStats } from "../ops/loop_lag.ts";
import type { RecorderStats } from "../stats/recorder.ts";
import type { ProxyMetrics } from "./proxy_metrics.ts";
import { ExpositionWriter } from "./text_format.ts";

/** Where the document's figures come from; `createApp` wires the live objects in. */
export interface MetricsSource {
  clock(): number;
  version: string;
  /** Epoch ms the server started. */
  startedAt: number;
  proxy: ProxyMetrics;
  accounts(now: number): AccountStatus[];
  /** Request and token capacity per window before the account's weight (the scorer's). */
  capacities: { requests: PerWindow; tokens: PerWindow };
  recorder(): RecorderStats;
  lag(): LagStats;
  /** Resident set size in bytes; default `Deno.memoryUsage().rss`. */
  rssBytes?(): number;
}

const REASONS: readonly BackoffReason[] = [...BACKOFF_REASONS];

function accountLabels(a: AccountStatus) {
  return { provider: a.providerId, account: a.name };
}

/** Every badge state, so each account has one series per state (1 for the current one). */
const HEALTH_STATES: readonly HealthState[] = [
  "healthy",
  "disabled",
  "no_key",
  "auth_failed",
  "quota_exhausted",
  "rate_limited",
  "circuit_open",
  "cooldown_active",
];

function writeAccounts(w: ExpositionWriter, source: MetricsSource, accounts: AccountStatus[]) {
  w.family(
    "eggpool_account_health",
    "gauge",
    "1 for the account's live health state (the dashboard badge), 0 for the others.",
  );
  for (const a of accounts) {
    for (const state of HEALTH_STATES) {
      w.sample("eggpool_account_health", a.health.state === state ? 1 : 0, {
        ...accountLabels(a),
        state,
      });
    }
  }
  w.family(
    "eggpool_account_in_flight",
    "gauge",
    "Upstream attempts in flight on each account.",
  );
  for (const a of accounts) w.sample("eggpool_account_in_flight", a.inFlight, accountLabels(a));
  w.family(
    "eggpool_account_backoffs",
    "gauge",
    "Active backoffs of each account by reason (account-wide and per model).",
  );
  for (const a of accounts) {
    for (const reason of REASONS) {
      const n = a.backoffs.filter((b) => b.reason === reason).length;
      w.sample("eggpool_account_backoffs", n, { ...accountLabels(a), reason });
    }
  }
  w.family(
    "eggpool_account_circuit_open",
    "gauge",
    "1 while the account's circuit breaker is open or half-open, else 0.",
  );
  for (const a of accounts) {
    w.sample(
      "eggpool_account_circuit_open",
      a.circuit.state === "closed" ? 0 : 1,
      accountLabels(a),
    );
  }
  w.family(
    "eggpool_account_window_utilization_ratio",
    "gauge",
    "Use of each quota window against the account's capacity (times its weight), " +
      "by dimension: requests, tokens, and spend when [limits] caps it.",
  );
  for (const a of accounts) {
    const weight = a.weight > 0 ? a.weight : 1;
    WINDOWS.forEach((win, i) => {
      const s = a.windows[win.name];
      if (s === undefined) return;
      const labels = { ...accountLabels(a), window: win.name };
      const reqCap = source.capacities.requests[i] * weight;
      const tokCap = source.capacities.tokens[i] * weight;
      w.sample(
        "eggpool_account_window_utilization_ratio",
        reqCap > 0 ? s.requests / reqCap : 0,
        { ...labels, dimension: "requests" },
      );
      w.sample(
        "eggpool_account_window_utilization_ratio",
        tokCap > 0 ? s.tokens / tokCap : 0,
        { ...labels, dimension: "tokens" },
      );
      if (s.spendRatio !== undefined) {
        w.sample("eggpool_account_window_utilization_ratio", s.spendRatio, {
          ...labels,
          dimension: "spend",
        });
      }
    });
  }
}

/** Renders the exposition document. */
export function renderMetrics(source: MetricsSource): string {
  const now = source.clock();
  const w = new ExpositionWriter();
  w.family("eggpool_build_info", "gauge", "Always 1; the version label names the build.")
    .sample("eggpool_build_info", 1, { version: source.version });
  w.family("eggpool_start_time_seconds", "gauge", "When the server started, in Unix seconds.")
    .sample("eggpool_start_time_seconds", source.startedAt / 1000);
  source.proxy.write(w);
  const rec = source.recorder();
  w.family(
    "eggpool_requests_in_flight",
    "gauge",
    "Client requests that entered and are not finalized yet.",
  ).sample("eggpool_requests_in_flight", rec.inFlight);
  writeAccounts(w, source, source.accounts(now));
  w.family(
    "eggpool_stats_write_queue_depth",
    "gauge",
    "Stats records waiting for their batched write to SQLite.",
  ).sample("eggpool_stats_write_queue_depth", rec.pendingWrites);
  w.family(
    "eggpool_stats_write_failures_total",
    "counter",
    "Batched stats writes that failed (they are kept and retried).",
  ).sample("eggpool_stats_write_failures_total", rec.writeFailures);
  w.family(
    "eggpool_stats_dropped_records_total",
    "counter",
    "Stats records dropped after a long write outage filled the buffer.",
  ).sample("eggpool_stats_dropped_records_total", rec.droppedRecords);
  const rss = source.rssBytes?.() ?? Deno.memoryUsage().rss;
  w.family("process_resident_memory_bytes", "gauge", "Resident memory of the process in bytes.")
    .sample("process_resident_memory_bytes", rss);
  const lag = source.lag();
  w.family(
    "eggpool_event_loop_lag_seconds",
    "gauge",
    "Mean event-loop lag over the last minute (a timer's lateness, sampled twice a second).",
  ).sample("eggpool_event_loop_lag_seconds", lag.meanMs / 1000);
  w.family(
    "eggpool_event_loop_lag_max_seconds",
    "gauge",
    "Largest event-loop lag sampled over the last minute.",
  ).sample("eggpool_event_loop_lag_max_seconds", lag.maxMs / 1000);
  return w.text();
}
