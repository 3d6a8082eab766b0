/**
 * Routing state over HTTP: `GET /api/backoffs` (spec 01 §7, follows
 * `[dashboard].public`) and `GET /api/accounts/status` (always key-gated: it
 * shows per-account errors and load), used by `eggpool accounts status`.
 */
import type { Context, Hono } from "hono";
import type { BackoffEntry } from "../accounts/backoffs.ts";
import type { AccountStatus } from "../accounts/status.ts";
import type { KeyChecker } from "./auth.ts";
import type { HttpEnv } from "./server.ts";

/** Dependencies of {@linkcode mountRoutingRoutes}. */
export interface RoutingRoutesDeps {
  keys: KeyChecker;
  /** `[dashboard].public`: `/api/backoffs` is readable without the key. */
  isPublic: boolean;
  pool: {
    backoffs: { list(now?: number): BackoffEntry[] };
    status(now?: number): AccountStatus[];
  };
  clock: () => number;
  /** Prompt-cache affinity per account: live pins, moves by reason, cache share. */
  affinity?: (account: string) => AccountAffinity;
  /** The account's last models-endpoint fetch, so a rejected key shows before any request fails. */
  catalog?: (account: string) => AccountCatalogState | undefined;
}

/** What one account's models endpoint last did (times in epoch ms). */
export interface AccountCatalogState {
  lastAttemptAt?: number;
  lastSuccessAt?: number;
  lastError?: string;
}

/** One account's prompt-cache affinity figures (issue #5). */
export interface AccountAffinity {
  livePins: number;
  moves: Record<string, number>;
  /** Cache read / all input since startup; undefined before any input. */
  cacheShare?: number;
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** One backoff in the `/api/backoffs` shape (snake_case, ISO times). */
export function backoffJson(e: BackoffEntry) {
  return {
    account_name: e.accountName,
    model_id: e.modelId ?? null,
    reason: e.reason,
    backoff_until: iso(e.untilMs),
    consecutive_failures: e.consecutiveFailures,
    status_code: e.statusCode ?? null,
    error_class: e.errorClass ?? null,
  };
}

/** One account in the `/api/accounts/status` shape. */
export function accountStatusJson(s: AccountStatus) {
  const windows: Record<string, unknown> = {};
  for (const [name, w] of Object.entries(s.windows)) {
    windows[name] = {
      requests: w.requests,
      tokens: w.tokens,
      cost_microdollars: w.costMicros,
      limit_microdollars: w.limitMicros ?? null,
      spend_ratio: w.spendRatio ?? null,
    };
  }
  return {
    name: s.name,
    provider_id: s.providerId,
    priority: s.priority,
    enabled: s.enabled,
    has_key: s.hasKey,
    weight: s.weight,
    in_flight: s.inFlight,
    circuit: {
      state: s.circuit.state,
      consecutive_failures: s.circuit.consecutiveFailures,
      retry_in_ms: s.circuit.retryInMs ?? null,
    },
    backoffs: s.backoffs.map(backoffJson),
    health: {
      state: s.health.state,
      reason: s.health.reason ?? null,
      // null = until the key changes; absent = nothing to wait for.
      until: s.health.untilMs === undefined
        ? undefined
        : s.health.untilMs === null
        ? null
        : iso(s.health.untilMs),
      last_failure_at: iso(s.health.lastFailureAt),
      status_code: s.health.statusCode ?? null,
    },
    windows,
    last_error: s.lastError === undefined ? null : {
      at: iso(s.lastError.at),
      class: s.lastError.class,
      error_class: s.lastError.errorClass,
      status_code: s.lastError.statusCode ?? null,
    },
  };
}

function denied(c: Context<HttpEnv>): Response {
  return c.json({ error: "Invalid or missing API key" }, 401);
}

/** Parses `?now=` (epoch seconds); undefined = absent, NaN = invalid. */
function nowParam(c: Context<HttpEnv>, clock: () => number): number {
  const raw = c.req.query("now");
  if (raw === undefined || raw === "") return clock();
  return /^\d+(\.\d+)?$/.test(raw.trim()) ? Math.round(Number(raw) * 1000) : Number.NaN;
}

/** Mounts the routing routes on `app` (the lead mounts it through `HttpDeps.mount`). */
export function mountRoutingRoutes(app: Hono<HttpEnv>, deps: RoutingRoutesDeps): void {
  app.get("/api/backoffs", (c) => {
    if (!deps.isPublic && !deps.keys.isAuthorized(c.req.raw.headers)) return denied(c);
    const now = nowParam(c, deps.clock);
    if (Number.isNaN(now)) return c.json({ error: "Invalid now: must be epoch seconds" }, 400);
    return c.json({ now: iso(now), backoffs: deps.pool.backoffs.list(now).map(backoffJson) });
  });
  app.get("/api/accounts/status", (c) => {
    if (!deps.keys.isAuthorized(c.req.raw.headers)) return denied(c);
    const now = deps.clock();
    const accounts = deps.pool.status(now).map((s) => {
      const json: Record<string, unknown> = accountStatusJson(s);
      const a = deps.affinity?.(s.name);
      if (a !== undefined) {
        json.affinity = {
          live_pins: a.livePins,
          moves: a.moves,
          cache_share: a.cacheShare ?? null,
        };
      }
      const cat = deps.catalog?.(s.name);
      if (cat !== undefined) {
        json.catalog = {
          last_attempt_at: iso(cat.lastAttemptAt),
          last_success_at: iso(cat.lastSuccessAt),
          last_error: cat.lastError ?? null,
        };
      }
      return json;
    });
    return c.json({ now: iso(now), accounts });
  });
}
