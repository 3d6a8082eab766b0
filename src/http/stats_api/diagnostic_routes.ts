/**
 * Diagnostic routes of the stats API: attempts, retries, routing, events,
 * pings, pending requests, price provenance and the recent requests.
 */
import { attemptStats, retryDistribution } from "../../stats/queries/latency.ts";
import {
  routingDistribution,
  routingExclusions,
  routingSelections,
  routingSkew,
} from "../../stats/queries/routing.ts";
import {
  accountEvents,
  operationalEvents,
  pendingHealth,
  pings,
  pricingProvenance,
} from "../../stats/queries/events.ts";
import { recentRequests, REQUEST_STATUSES, requestDetail } from "../../stats/queries/recent.ts";
import { transcodingStats } from "../../stats/queries/transcoding.ts";
import { ParamError } from "./params.ts";
import type { StatsApiDeps, StatsRoute } from "./mod.ts";

/** Registers the diagnostic routes. */
export function mountDiagnosticRoutes(route: StatsRoute, deps: StatsApiDeps): void {
  const db = deps.db;
  route("/api/stats/attempts", "dashboard", (q) => {
    const period = q.period();
    const account = q.account(db);
    const model = q.text("model");
    const provider = q.text("provider");
    return {
      period: period.label,
      account_filter: account.name ?? null,
      model_filter: model ?? null,
      provider_filter: provider ?? null,
      ...attemptStats(db, period, { accountId: account.id, modelId: model, providerId: provider }),
    };
  });
  route("/api/stats/retries", "dashboard", (q) => {
    const period = q.period();
    return { period: period.label, distribution: retryDistribution(db, period) };
  });
  route("/api/stats/routing", "dashboard", (q) => {
    const period = q.period();
    return { period: period.label, distribution: routingDistribution(db, period) };
  });
  route("/api/stats/routing-selections", "dashboard", (q) => {
    const period = q.period();
    return { period: period.label, selections: routingSelections(db, period) };
  });
  route("/api/stats/transcoding", "dashboard", (q) => {
    const period = q.period();
    return { period: period.label, ...transcodingStats(db, period) };
  });
  route("/api/stats/routing-exclusions", "dashboard", (q) => {
    const period = q.period();
    return { period: period.label, exclusions: routingExclusions(db, period) };
  });
  route("/api/stats/routing-skew", "dashboard", (q) => {
    const period = q.period();
    return { period: period.label, ...routingSkew(db, period) };
  });
  route("/api/stats/routing/eligibility", "dashboard", (q, c) => {
    const modelId = q.text("model_id");
    if (modelId === undefined) {
      throw new ParamError("model_id", "Missing 'model_id': name the model to check");
    }
    const providerId = q.text("provider_id");
    const protocol = q.oneOf("protocol", ["openai", "anthropic", "any"], "any");
    if (deps.pool === undefined || deps.catalog === undefined) {
      return c.json({ error: "The router is not available" }, 503);
    }
    const entries = deps.catalog.entries({ modelId, providerId }).filter((e) =>
      protocol === "any" || e.protocol === protocol
    );
    const providers = new Set(entries.map((e) => e.providerId));
    const rows = deps.pool.eligibility(providers, modelId).map((r) => ({
      account_name: r.account,
      provider_id: r.providerId,
      eligible: r.exclusion === undefined,
      reason: r.exclusion?.reason ?? null,
      until: r.exclusion?.untilMs === undefined
        ? null
        : new Date(r.exclusion.untilMs).toISOString(),
    }));
    return {
      model_id: modelId,
      provider_id: providerId ?? null,
      protocol,
      serving_providers: [...providers].sort(),
      eligible_count: rows.filter((r) => r.eligible).length,
      rows,
    };
  });
  route("/api/stats/operational", "dashboard", (q) => {
    const period = q.period();
    const limit = q.int("limit", 50, 1, 200);
    const type = q.text("type_filter");
    return {
      period: period.label,
      type_filter: type ?? null,
      limit,
      ...operationalEvents(db, period, limit, type),
    };
  });
  route("/api/events", "dashboard", (q) => {
    const limit = q.int("limit", 50, 1, 100);
    const type = q.text("type_filter");
    return { limit, type: type ?? null, events: accountEvents(db, limit, type) };
  });
  route("/api/stats/pings", "dashboard", (q) => {
    const period = q.period();
    const provider = q.text("provider");
    return {
      period: period.label,
      provider_filter: provider ?? null,
      ...pings(db, period, provider),
    };
  });
  route("/api/stats/pending-health", "key", (q) => pendingHealth(db, q.now));
  route("/api/stats/pricing-provenance", "dashboard", (q) => ({
    snapshots: pricingProvenance(db, q.now, deps.price ?? (() => undefined)),
  }));
  route("/api/stats/recent-requests", "key", (q) => {
    const limit = q.int("limit", 50, 1, 200);
    const account = q.account(db);
    const provider = q.text("provider");
    const model = q.text("model");
    const status = q.raw("status") === undefined
      ? undefined
      : q.oneOf("status", REQUEST_STATUSES, "completed");
    return {
      limit,
      account_filter: account.name ?? null,
      provider_filter: provider ?? null,
      model_filter: model ?? null,
      status_filter: status ?? null,
      include_client_ip: false,
      requests: recentRequests(db, limit, {
        accountId: account.id,
        providerId: provider,
        modelId: model,
        status,
      }),
    };
  });
  route("/api/stats/recent/:request_id", "key", (_q, c) => {
    const raw = c.req.param("request_id") ?? "";
    if (!/^\d{1,15}$/.test(raw)) {
      throw new ParamError(
        "request_id",
        `Invalid 'request_id' ${JSON.stringify(raw.slice(0, 40))}: expected a whole number`,
      );
    }
    const detail = requestDetail(db, Number(raw));
    if (detail === undefined) return c.json({ error: `Request ${raw} not found` }, 404);
    return detail;
  });
}
