/**
 * Usage routes of the stats API: summary, accounts, models, timeseries
 * (plain and grouped), bandwidth, errors, IPs and latency.
 */
import { autoBucket } from "../../stats/queries/period.ts";
import type { Bucket } from "../../stats/queries/period.ts";
import {
  accountStats,
  bandwidth,
  clientIps,
  errorGroups,
  modelStats,
  summary,
  timeseries,
} from "../../stats/queries/usage.ts";
import { groupedTimeseriesJson, TooManyBucketsError } from "../../stats/queries/grouped.ts";
import type { GroupBy } from "../../stats/queries/grouped.ts";
import { latency } from "../../stats/queries/latency.ts";
import type { AccountStatus } from "../../accounts/status.ts";
import { ParamError } from "./params.ts";
import type { StatsApiDeps, StatsRoute } from "./mod.ts";

const GROUP_BY: readonly GroupBy[] = ["provider_model", "provider", "model", "account"];

/** The live routing state shown beside an account's usage. */
function liveState(s: AccountStatus | undefined, now: number) {
  if (s === undefined) return { in_flight: null, backoff: null, circuit: null, utilization: null };
  const blocking = s.backoffs.filter((b) => b.untilMs === undefined || b.untilMs > now);
  return {
    in_flight: s.inFlight,
    backoff: blocking.length === 0 ? null : blocking.map((b) => ({
      reason: b.reason,
      model_id: b.modelId ?? null,
      until: b.untilMs === undefined ? null : new Date(b.untilMs).toISOString(),
    })),
    circuit: s.circuit.state,
    utilization: Object.fromEntries(
      Object.entries(s.windows).map(([w, v]) => [w, {
        requests: v.requests,
        tokens: v.tokens,
        cost_microdollars: v.costMicros,
        spend_ratio: v.spendRatio ?? null,
      }]),
    ),
  };
}

/** Registers the usage routes. */
export function mountUsageRoutes(route: StatsRoute, deps: StatsApiDeps): void {
  const db = deps.db;
  route("/api/stats/summary", "dashboard", (q) => {
    const period = q.period();
    return { period: period.label, ...summary(db, period) };
  });
  route("/api/stats/accounts", "dashboard", (q) => {
    const period = q.period();
    const includeDisabled = q.bool("include_disabled", true);
    const live = new Map((deps.pool?.status(q.now) ?? []).map((s) => [s.name, s]));
    const accounts = accountStats(db, period, includeDisabled).map((a) => ({
      ...a,
      ...liveState(live.get(a.account_name), q.now),
    }));
    return { period: period.label, include_disabled: includeDisabled, accounts };
  });
  route("/api/stats/models", "dashboard", (q) => {
    const period = q.period();
    const account = q.account(db);
    return {
      period: period.label,
      account_filter: account.name ?? null,
      models: modelStats(db, period, account.id),
    };
  });
  route("/api/stats/timeseries", "dashboard", (q) => {
    const period = q.period();
    const bucket = q.oneOf<Bucket>("bucket", ["hour", "day"], "hour");
    const account = q.account(db);
    const model = q.text("model");
    return {
      period: period.label,
      bucket,
      account_filter: account.name ?? null,
      model_filter: model ?? null,
      series: timeseries(db, period, bucket, { accountId: account.id, modelId: model }),
    };
  });
  route("/api/timeseries/grouped", "dashboard", (q, c) => {
    const period = q.period();
    const raw = q.oneOf("bucket", ["hour", "day", "auto"], "auto");
    const bucket: Bucket = raw === "auto" ? autoBucket(period) : raw;
    const groupBy = q.oneOf<GroupBy>("group_by", GROUP_BY, "provider_model");
    // `metric` is accepted and ignored (spec 01 §7): series are ranked by requests.
    const limit = q.int("limit", 12, 1, 25);
    const account = q.account(db);
    const model = q.text("model");
    const echo = {
      period: period.label,
      bucket,
      group_by: groupBy,
      metric: "requests",
      limit,
      account_filter: account.name ?? null,
      model_filter: model ?? null,
    };
    try {
      // Written as text here (the same text c.json writes): see groupedTimeseriesJson.
      const text = groupedTimeseriesJson(db, period, bucket, groupBy, limit, {
        accountId: account.id,
        modelId: model,
      }, echo);
      return c.body(text, 200, { "content-type": "application/json", "cache-control": "no-store" });
    } catch (error) {
      if (error instanceof TooManyBucketsError) throw new ParamError("bucket", error.message);
      throw error;
    }
  });
  route("/api/stats/bandwidth", "dashboard", (q) => {
    const period = q.period();
    const account = q.account(db);
    return {
      period: period.label,
      account_filter: account.name ?? null,
      daily: bandwidth(db, period, account.id),
    };
  });
  route("/api/stats/errors", "dashboard", (q) => {
    const period = q.period();
    const limit = q.int("limit", 20, 1, 100);
    return { period: period.label, limit, errors: errorGroups(db, period, limit) };
  });
  route("/api/stats/ips", "dashboard", (q) => {
    const period = q.period();
    return { period: period.label, ips: clientIps(db, period) };
  });
  route("/api/stats/latency", "dashboard", (q) => {
    const period = q.period();
    return { period: period.label, ...latency(db, period) };
  });
}
