/**
 * Dashboard pages Timeseries, Events, Traces, Runtime and Bandwidth (spec 06
 * §4). Each loads plain data from `src/stats/queries/` and renders a view.
 * Traces and Runtime show request-level and process details, which the
 * stats API never opens to the public (09-decisions), so they need the key or
 * a signed-in session even when the dashboard is public.
 */
import type { Context, Env, Hono } from "hono";
import { h } from "preact";
import type { Access } from "./gate.ts";
import type { DashboardDeps } from "./routes.ts";
import { htmlResponse } from "./render.ts";
import type { PageChrome } from "./views/types.ts";
import { parsePeriod as statsPeriod } from "../stats/queries/period.ts";
import type { Bucket, StatsPeriod } from "../stats/queries/period.ts";
import { autoBucket } from "../stats/queries/period.ts";
import { groupedTimeseries, TooManyBucketsError } from "../stats/queries/grouped.ts";
import type { GroupBy } from "../stats/queries/grouped.ts";
import { accountIdByName, bandwidth } from "../stats/queries/usage.ts";
import { accountEventsIn, accountEventTypes } from "../stats/queries/account_events.ts";
import { operationalEvents } from "../stats/queries/events.ts";
import { recentRequests, requestDetail } from "../stats/queries/recent.ts";
import { buildHeatmap, HEATMAP_DAYS } from "./heatmap.ts";
import { TimeseriesPage } from "./views/pages_b/timeseries_page.tsx";
import type { TimeseriesControls } from "./views/pages_b/timeseries_page.tsx";
import { EventsPage } from "./views/pages_b/events_page.tsx";
import { TraceDetailPage, TracesPage } from "./views/pages_b/traces_page.tsx";
import { RuntimePage } from "./views/pages_b/runtime_page.tsx";
import { BandwidthPage } from "./views/pages_b/bandwidth_page.tsx";
import { KeyNeededPage } from "./views/pages_b/key_needed.tsx";
import { loadRuntimeExtras } from "./runtime_data.ts";

type PageHandler<E extends Env> = (
  handler: (c: Context<E>, access: Access) => Response | Promise<Response>,
) => (c: Context<E>) => Promise<Response>;
type Chrome<E extends Env> = (
  c: Context<E>,
  page: Omit<PageChrome, "period" | "theme" | "themes" | "refreshIntervalS">,
) => PageChrome;

const DAY_MS = 86_400_000;
const GROUP_BY: readonly GroupBy[] = ["provider_model", "provider", "model", "account"];
const METRICS = ["tokens", "requests", "cost"] as const;
const PERIODS = ["1h", "24h", "7d", "30d"] as const;

function oneOf<T extends string>(raw: string | undefined, values: readonly T[], fallback: T): T {
  return raw !== undefined && (values as readonly string[]).includes(raw) ? raw as T : fallback;
}

function intIn(raw: string | undefined, fallback: number, min: number, max: number): number {
  const n = raw !== undefined && /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  return n >= min && n <= max ? n : fallback;
}

function text(raw: string | undefined): string | undefined {
  const v = raw?.trim();
  return v === undefined || v === "" ? undefined : v.slice(0, 256);
}

/** Registers the five pages. */
export function mountPagesB<E extends Env>(
  app: Hono<E>,
  { deps, page, chrome }: { deps: DashboardDeps; page: PageHandler<E>; chrome: Chrome<E> },
): void {
  const periodOf = (c: Context<E>): StatsPeriod =>
    statsPeriod(oneOf(c.req.query("period"), PERIODS, "24h"), deps.clock());
  // Request traces and process details: the key or a session, never just a public dashboard.
  const privileged = (c: Context<E>, access: Access) =>
    access === "header" || access === "session" || !deps.keys.enabled ||
    deps.keys.isAuthorized(c.req.raw.headers);
  const keyNeeded = (c: Context<E>, title: string, path: string) =>
    htmlResponse(
      h(KeyNeededPage, { chrome: chrome(c, { title, path, showNav: true, signedIn: false }) }),
      { status: 401 },
    );

  app.get(
    "/timeseries",
    page((c, access) => {
      deps.flush();
      const q = (n: string) => c.req.query(n);
      const period = periodOf(c);
      const controls: TimeseriesControls = {
        bucket: oneOf(q("bucket"), ["auto", "hour", "day"] as const, "auto"),
        groupBy: oneOf(q("group_by"), GROUP_BY, "provider_model"),
        metric: oneOf(q("metric"), METRICS, "tokens"),
        limit: intIn(q("limit"), 12, 1, 25),
        account: text(q("account")),
        model: text(q("model")),
      };
      const bucket: Bucket = controls.bucket === "auto" ? autoBucket(period) : controls.bucket;
      const accounts = deps.pool.status(deps.clock()).map((s) => s.name).sort();
      let error: string | undefined;
      let data: ReturnType<typeof groupedTimeseries> | undefined;
      const accountId = controls.account === undefined
        ? undefined
        : accountIdByName(deps.db, controls.account);
      if (controls.account !== undefined && accountId === undefined) {
        error = `No account is named "${controls.account}"; pick one from the list.`;
      } else {
        try {
          data = groupedTimeseries(deps.db, period, bucket, controls.groupBy, controls.limit, {
            accountId,
            modelId: controls.model,
          });
        } catch (e) {
          if (!(e instanceof TooManyBucketsError)) throw e;
          error = e.message;
        }
      }
      const keep: Record<string, string> = {
        bucket: controls.bucket,
        group_by: controls.groupBy,
        metric: controls.metric,
        limit: String(controls.limit),
      };
      if (controls.account !== undefined) keep.account = controls.account;
      if (controls.model !== undefined) keep.model = controls.model;
      return htmlResponse(
        h(TimeseriesPage, {
          chrome: chrome(c, {
            title: "Timeseries",
            path: "/timeseries",
            showNav: true,
            signedIn: access === "session",
            charts: true,
            keep,
          }),
          controls,
          bucket,
          accounts,
          data,
          error,
        }),
        { status: error === undefined ? 200 : 400 },
      );
    }),
  );

  app.get(
    "/events",
    page((c, access) => {
      deps.flush();
      const period = periodOf(c);
      const types = accountEventTypes(deps.db, period);
      const raw = text(c.req.query("type"));
      const type = types.some((t) => t.type === raw) ? raw : undefined;
      return htmlResponse(h(EventsPage, {
        chrome: chrome(c, {
          title: "Events",
          path: "/events",
          showNav: true,
          signedIn: access === "session",
          keep: type === undefined ? undefined : { type },
        }),
        types,
        type,
        events: accountEventsIn(deps.db, period, 200, type),
        operational: operationalEvents(deps.db, period, 50).recent,
      }));
    }),
  );

  app.get(
    "/traces",
    page((c, access) => {
      if (!privileged(c, access)) return keyNeeded(c, "Traces", "/traces");
      deps.flush();
      const limit = intIn(c.req.query("limit"), 50, 10, 500);
      return htmlResponse(h(TracesPage, {
        chrome: chrome(c, {
          title: "Traces",
          path: "/traces",
          showNav: true,
          signedIn: access === "session",
          keep: limit === 50 ? undefined : { limit: String(limit) },
        }),
        limit,
        requests: recentRequests(deps.db, limit, {}),
      }));
    }),
  );
  app.get(
    "/traces/:id",
    page((c, access) => {
      if (!privileged(c, access)) return keyNeeded(c, "Trace", "/traces");
      deps.flush();
      const raw = c.req.param("id") ?? "";
      const detail = /^\d{1,15}$/.test(raw) ? requestDetail(deps.db, Number(raw)) : undefined;
      return htmlResponse(
        h(TraceDetailPage, {
          chrome: chrome(c, {
            title: `Request ${raw.slice(0, 20)}`,
            path: "/traces",
            showNav: true,
            signedIn: access === "session",
          }),
          id: raw.slice(0, 20),
          detail,
        }),
        { status: detail === undefined ? 404 : 200 },
      );
    }),
  );

  app.get(
    "/runtime",
    page(async (c, access) => {
      if (!privileged(c, access)) return keyNeeded(c, "Runtime", "/runtime");
      deps.flush();
      const diagnostics = await deps.diagnostics?.();
      return htmlResponse(h(RuntimePage, {
        chrome: chrome(c, {
          title: "Runtime",
          path: "/runtime",
          showNav: true,
          signedIn: access === "session",
          autoRefresh: true,
        }),
        snapshot: deps.runtime?.(),
        extras: loadRuntimeExtras(deps.db, deps.pool.status(deps.clock()), deps.clock()),
        diagnostics,
      }));
    }),
  );

  app.get(
    "/bandwidth",
    page((c, access) => {
      deps.flush();
      const now = deps.clock();
      const period = periodOf(c);
      const days = bandwidth(deps.db, period);
      const firstDay = Math.floor(now / DAY_MS) * DAY_MS - (HEATMAP_DAYS - 1) * DAY_MS;
      const history = bandwidth(deps.db, { label: "custom", start: firstDay, end: now + 1 });
      return htmlResponse(h(BandwidthPage, {
        chrome: chrome(c, {
          title: "Bandwidth",
          path: "/bandwidth",
          showNav: true,
          signedIn: access === "session",
        }),
        received: days.reduce((s, d) => s + d.bytes_received, 0),
        emitted: days.reduce((s, d) => s + d.bytes_emitted, 0),
        requests: days.reduce((s, d) => s + d.request_count, 0),
        days,
        heatmap: buildHeatmap(
          history.map((d) => ({
            day: Date.parse(`${d.day}T00:00:00Z`),
            value: d.bytes_received + d.bytes_emitted,
            requests: d.request_count,
          })),
          now,
        ),
      }));
    }),
  );
}
