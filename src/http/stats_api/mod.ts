/**
 * The stats JSON API (spec 01 §7, issue #14): `/api/stats/*`, `/api/events`
 * and `/api/timeseries/grouped`. Values come from `src/stats/queries/`.
 * Access per 09-decisions: runtime, pending-health, recent-requests and
 * recent/{id} always need the local key or a signed-in dashboard session;
 * every other route follows `[dashboard].public`. Each answer flushes buffered stats first, so it
 * includes the requests finished a moment ago.
 */
import type { Context, Hono } from "hono";
import type { Db } from "../../storage/db.ts";
import type { PriceRates } from "../../stats/queries/events.ts";
import type { KeyChecker } from "../auth.ts";
import type { HttpEnv } from "../server.ts";
import type { AccountStatus } from "../../accounts/status.ts";
import type { Exclusion } from "../../accounts/decision.ts";
import type { ModelEntry, ModelRef } from "../../catalog/catalog.ts";
import { ParamError, StatsQuery } from "./params.ts";
import { mountUsageRoutes } from "./usage_routes.ts";
import { mountDiagnosticRoutes } from "./diagnostic_routes.ts";

/** Dependencies of {@linkcode mountStatsApi}. */
export interface StatsApiDeps {
  db: Db;
  keys: KeyChecker;
  isPublic: boolean;
  clock: () => number;
  /** Flushes buffered stats so an answer includes the latest requests. */
  flush(): void;
  /** Live routing state; undefined makes `/routing/eligibility` answer 503. */
  pool?: {
    status(now?: number): AccountStatus[];
    eligibility(
      providerIds: ReadonlySet<string>,
      modelId: string,
    ): { account: string; providerId: string; exclusion?: Exclusion }[];
  };
  catalog?: {
    parseRef(requested: string): ModelRef;
    entries(ref: ModelRef): readonly ModelEntry[];
  };
  /** The proxy's price book (`model_overrides`). */
  price?: (providerId: string, modelId: string) => PriceRates | undefined;
  /** True when the request carries a live dashboard session (the browser's sign-in cookie). */
  session?: (req: Request) => Promise<boolean>;
}

/** Who may call a route: always the key, or as `[dashboard].public` says. */
export type Gate = "key" | "dashboard";

/** Registers a GET route whose handler returns a JSON body (or a ready Response). */
export type StatsRoute = (
  path: string,
  gate: Gate,
  handler: (q: StatsQuery, c: Context<HttpEnv>) => unknown,
) => void;

/** Mounts every stats API route on `app`. */
export function mountStatsApi(app: Hono<HttpEnv>, deps: StatsApiDeps): void {
  const route: StatsRoute = (path, gate, handler) => {
    app.get(path, async (c) => {
      const open = gate === "dashboard" && deps.isPublic;
      if (
        !open && !deps.keys.isAuthorized(c.req.raw.headers) &&
        !(await deps.session?.(c.req.raw))
      ) {
        return c.json({ error: "Invalid or missing API key" }, 401);
      }
      try {
        const q = new StatsQuery(new URL(c.req.url), deps.clock());
        deps.flush();
        const body = handler(q, c);
        if (body instanceof Response) return body;
        return c.json(body as Record<string, unknown>, 200, { "cache-control": "no-store" });
      } catch (error) {
        if (error instanceof ParamError) {
          return c.json({ error: error.message, param: error.param }, error.status);
        }
        throw error;
      }
    });
  };
  mountUsageRoutes(route, deps);
  mountDiagnosticRoutes(route, deps);
}
