/**
 * Routes of the Reliability, Routing, Cache, Models, Latency and Pings pages
 * (spec 06 §4). `routes.ts` hands over its access check and page chrome;
 * each handler loads its data through `pages_a_data.ts` and renders a view.
 */
import type { Context, Env, Hono } from "hono";
import { h } from "preact";
import type { FunctionComponent } from "preact";
import type { Access } from "./gate.ts";
import { htmlResponse } from "./render.ts";
import { parsePeriod as parseStatsPeriod } from "../stats/queries/period.ts";
import type { StatsPeriod } from "../stats/queries/period.ts";
import {
  loadCache,
  loadLatency,
  loadModels,
  loadPings,
  loadReliability,
  loadRouting,
} from "./pages_a_data.ts";
import type { PagesASource } from "./pages_a_data.ts";
import type { PageChrome, Period } from "./views/types.ts";
import { ReliabilityPage } from "./views/reliability_page.tsx";
import { RoutingPage } from "./views/routing_page.tsx";
import { CachePage } from "./views/cache_page.tsx";
import { ModelsPage } from "./views/models_page.tsx";
import { LatencyPage } from "./views/latency_page.tsx";
import { PingsPage } from "./views/pings_page.tsx";

/** What `routes.ts` lends these pages. */
export interface PagesADeps<E extends Env> {
  source: PagesASource;
  clock: () => number;
  /** Wraps a handler in the dashboard's access check. */
  page: (
    handler: (c: Context<E>, access: Access) => Response,
  ) => (c: Context<E>) => Promise<Response>;
  /** The layout's chrome for a page. */
  chrome: (
    c: Context<E>,
    page: Omit<PageChrome, "period" | "theme" | "themes" | "refreshIntervalS">,
  ) => PageChrome;
}

interface PageSpec<D> {
  path: string;
  title: string;
  charts?: boolean;
  autoRefresh?: boolean;
  load: (period: StatsPeriod, now: number) => D;
  view: FunctionComponent<D & { chrome: PageChrome }>;
}

/** Registers the six pages on `app`. */
export function mountPagesA<E extends Env>(app: Hono<E>, deps: PagesADeps<E>): void {
  const src = deps.source;
  const mount = <D>(spec: PageSpec<D>) => {
    app.get(
      spec.path,
      deps.page((c, access) => {
        const chrome = deps.chrome(c, {
          title: spec.title,
          path: spec.path,
          showNav: true,
          signedIn: access === "session",
          charts: spec.charts,
          autoRefresh: spec.autoRefresh,
        });
        const now = deps.clock();
        // The chrome's period is already one of the four choices.
        const period = parseStatsPeriod(chrome.period satisfies Period, now);
        const props = { ...spec.load(period, now), chrome };
        return htmlResponse(h(spec.view, props));
      }),
    );
  };
  mount({
    path: "/reliability",
    title: "Reliability",
    charts: true,
    load: (p, now) => loadReliability(src, p, now),
    view: ReliabilityPage,
  });
  mount({
    path: "/routing",
    title: "Routing",
    charts: true,
    load: (p) => loadRouting(src, p),
    view: RoutingPage,
  });
  mount({
    path: "/cache",
    title: "Cache",
    autoRefresh: true,
    load: (p) => loadCache(src, p.start),
    view: CachePage,
  });
  mount({ path: "/models", title: "Models", load: (p) => loadModels(src, p), view: ModelsPage });
  mount({
    path: "/latency",
    title: "Latency",
    load: (p) => loadLatency(src, p),
    view: LatencyPage,
  });
  mount({ path: "/pings", title: "Pings", load: (p) => loadPings(src, p), view: PingsPage });
}
