/**
 * The dashboard's routes (spec 06): static assets, the login flow and the
 * pages. Data is loaded here and handed to the views as plain props. Nothing
 * is mounted when `[dashboard].enabled` is false.
 */
import type { RoutingTraceSettings } from "./pages_a_data.ts";
import type { Context, Env, Hono } from "hono";
import { h } from "preact";
import { loadAccountsData } from "./accounts_data.ts";
import type { AccountsSource } from "./accounts_data.ts";
import { mountStaticAssets } from "./assets.ts";
import { DashboardGate, HOME_PATH, readSmallForm, safeNext, wantsHtml } from "./gate.ts";
import type { Access, KeyCheck } from "./gate.ts";
import { htmlResponse } from "./render.ts";
import { ThemeLibrary } from "./theme.ts";
import { THEMES } from "./themes_manifest.ts";
import { DailyUsageCache, loadOverviewData, loadTimeseries } from "./overview_data.ts";
import { AccountsPage } from "./views/accounts_page.tsx";
import { OverviewPage } from "./views/overview_page.tsx";
import { LoginPage } from "./views/login_page.tsx";
import { mountPagesA } from "./pages_a.ts";
import type { PageChrome, Period } from "./views/types.ts";
import type { RuntimeSnapshot } from "../ops/runtime_snapshot.ts";
import type { RuntimeDiagnosticsView } from "../ops/runtime_diagnostics.ts";
import { mountPagesB } from "./pages_b.ts";
import { mountModelPage } from "./model_page.ts";

/** The `[dashboard]` settings the routes read. */
export interface DashboardSettings {
  enabled: boolean;
  public: boolean;
  theme: string;
  themes_dir?: string;
  refresh_interval_s: number;
}

/** Dependencies of {@linkcode mountDashboard}. */
export interface DashboardDeps extends AccountsSource {
  settings: DashboardSettings;
  keys: KeyCheck;
  /** The local API key (signs session cookies); undefined when none is configured. */
  localKey: string | undefined;
  clock: () => number;
  log?: (message: string) => void;
  /** The process figures of `/api/stats/runtime`, for the Runtime page. */
  runtime?: () => RuntimeSnapshot;
  /** Other servers on the database, outbound clients and the config file, for the Runtime page. */
  diagnostics?: () => Promise<RuntimeDiagnosticsView>;
  /** `[routing.trace]`, reported on the Routing page. */
  routingTrace?: RoutingTraceSettings;
  /** Provider id → `routing_priority`, shown on the Models page. */
  priorities?: Readonly<Record<string, number>>;
}

const HOUR_MS = 3_600_000;
/** Length of each period choice (spec 06 §1). */
const PERIOD_MS: Readonly<Record<Period, number>> = {
  "1h": HOUR_MS,
  "24h": 24 * HOUR_MS,
  "7d": 7 * 24 * HOUR_MS,
  "30d": 30 * 24 * HOUR_MS,
};
const DEFAULT_PERIOD: Period = "24h";

/** `?period=`; anything unknown becomes the default. */
export function parsePeriod(raw: string | undefined): Period {
  return raw !== undefined && Object.hasOwn(PERIOD_MS, raw) ? raw as Period : DEFAULT_PERIOD;
}

function denied<E extends Env>(c: Context<E>): Response {
  if (!wantsHtml(c.req.raw)) return c.json({ error: "Invalid or missing API key" }, 401);
  const url = new URL(c.req.url);
  const next = new URLSearchParams({ next: `${url.pathname}${url.search}` });
  return c.redirect(`/login?${next}`, 303);
}

/**
 * Registers the dashboard on `app`. Returns the session check the stats API
 * shares (a signed-in browser may call it), or undefined when disabled.
 */
export function mountDashboard<E extends Env>(
  app: Hono<E>,
  deps: DashboardDeps,
): ((req: Request) => Promise<boolean>) | undefined {
  const s = deps.settings;
  if (!s.enabled) return undefined;
  const themes = new ThemeLibrary({
    bundled: THEMES,
    dir: s.themes_dir,
    configured: s.theme,
    log: deps.log,
  });
  const gate = new DashboardGate({
    keys: deps.keys,
    localKey: deps.localKey,
    isPublic: s.public,
    clock: deps.clock,
  });
  mountStaticAssets(app, themes);
  const heatmapDays = new DailyUsageCache();

  const chrome = (
    c: Context<E>,
    page: Omit<PageChrome, "period" | "theme" | "themes" | "refreshIntervalS">,
  ): PageChrome => ({
    ...page,
    period: parsePeriod(c.req.query("period")),
    theme: themes.resolve(c.req.query("theme")),
    themes: themes.names(),
    refreshIntervalS: s.refresh_interval_s,
  });
  const loginPage = (c: Context<E>, next: string, status: 200 | 401 | 413, error?: string) =>
    htmlResponse(
      h(LoginPage, {
        chrome: chrome(c, { title: "Sign in", path: "/login", showNav: false, signedIn: false }),
        next,
        error,
      }),
      { status },
    );

  app.get("/login", async (c) => {
    const next = safeNext(c.req.query("next"));
    const access = await gate.access(c.req.raw);
    if (access !== "denied") return c.redirect(next, 303);
    return loginPage(c, next, 200);
  });
  app.post("/login", async (c) => {
    if (!gate.required) return c.redirect(HOME_PATH, 303);
    const form = await readSmallForm(c.req.raw);
    if (form === undefined) return loginPage(c, HOME_PATH, 413, "The sign-in form was too large");
    const next = safeNext(form.get("next"));
    if (!gate.isLocalKey(form.get("key") ?? "")) {
      return loginPage(c, next, 401, "That key is not the local API key");
    }
    return new Response(null, {
      status: 303,
      headers: { location: next, "set-cookie": await gate.sessionCookie() },
    });
  });
  const logout = async (c: Context<E>) => {
    await gate.endSession(c.req.raw);
    return new Response(null, {
      status: 303,
      headers: { location: "/login", "set-cookie": gate.clearCookie() },
    });
  };
  app.get("/logout", logout);
  app.post("/logout", logout);

  const page = (
    handler: (c: Context<E>, access: Access) => Response | Promise<Response>,
  ) =>
  async (c: Context<E>) => {
    const access = await gate.access(c.req.raw);
    return access === "denied" ? denied(c) : handler(c, access);
  };

  app.get(
    "/",
    page((c, access) => {
      const period = parsePeriod(c.req.query("period"));
      const now = deps.clock();
      return htmlResponse(h(OverviewPage, {
        chrome: chrome(c, {
          title: "Overview",
          path: "/",
          showNav: true,
          signedIn: access === "session",
          autoRefresh: true,
          charts: true,
        }),
        ...loadOverviewData(deps, {
          period,
          since: now - PERIOD_MS[period],
          now,
          days: heatmapDays,
        }),
      }));
    }),
  );
  app.get(
    "/api/timeseries",
    page((c) => {
      const period = parsePeriod(c.req.query("period"));
      const now = deps.clock();
      const body = loadTimeseries(deps, period, now - PERIOD_MS[period], now);
      return c.json(body, 200, { "cache-control": "no-store" });
    }),
  );

  app.get(
    "/accounts",
    page((c, access) => {
      const period = parsePeriod(c.req.query("period"));
      const showDisabled = c.req.query("show_disabled") === "1";
      const now = deps.clock();
      const data = loadAccountsData(deps, now - PERIOD_MS[period], now);
      const enabledCount = data.accounts.filter((a) => a.enabled).length;
      return htmlResponse(h(AccountsPage, {
        chrome: chrome(c, {
          title: "Accounts",
          path: "/accounts",
          showNav: true,
          signedIn: access === "session",
          keep: showDisabled ? { show_disabled: "1" } : undefined,
        }),
        accounts: showDisabled ? data.accounts : data.accounts.filter((a) => a.enabled),
        models: data.models,
        enabledCount,
        disabledCount: data.accounts.length - enabledCount,
        showDisabled,
        affinityOn: deps.pins !== undefined,
      }));
    }),
  );
  mountPagesA(app, { source: deps, clock: deps.clock, page, chrome });
  mountPagesB(app, { deps, page, chrome });
  mountModelPage(app, { deps, page, chrome });
  return async (req) => (await gate.access(req)) === "session";
}
