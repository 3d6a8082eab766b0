/**
 * The `/models/{id}` route (spec 06 §4, post-seed detail page). Model ids
 * may hold slashes (`meta/llama-3`), so the route takes the rest of the path
 * and each segment is decoded.
 */
import type { Context, Env, Hono } from "hono";
import { h } from "preact";
import type { Access } from "./gate.ts";
import type { DashboardDeps } from "./routes.ts";
import { htmlResponse } from "./render.ts";
import type { PageChrome } from "./views/types.ts";
import { parsePeriod as statsPeriod } from "../stats/queries/period.ts";
import { loadModelDetail } from "./model_page_data.ts";
import { ModelDetailPage } from "./views/model_detail_page.tsx";

type PageHandler<E extends Env> = (
  handler: (c: Context<E>, access: Access) => Response,
) => (c: Context<E>) => Promise<Response>;
type Chrome<E extends Env> = (
  c: Context<E>,
  page: Omit<PageChrome, "period" | "theme" | "themes" | "refreshIntervalS">,
) => PageChrome;

/** Longest model id the page looks up. */
const MAX_ID_CHARS = 256;

function decodeId(raw: string): string | undefined {
  try {
    const id = raw.split("/").map(decodeURIComponent).join("/");
    return id === "" || id.length > MAX_ID_CHARS ? undefined : id;
  } catch {
    return undefined;
  }
}

/** Registers `/models/{id}`. */
export function mountModelPage<E extends Env>(
  app: Hono<E>,
  { deps, page, chrome }: { deps: DashboardDeps; page: PageHandler<E>; chrome: Chrome<E> },
): void {
  app.get(
    "/models/*",
    page((c, access) => {
      deps.flush();
      const raw = new URL(c.req.url).pathname.slice("/models/".length);
      const id = decodeId(raw);
      const pageChrome = chrome(c, {
        title: `Model ${(id ?? raw).slice(0, 80)}`,
        path: "/models",
        showNav: true,
        signedIn: access === "session",
      });
      const now = deps.clock();
      const detail = id === undefined ? undefined : loadModelDetail(
        deps.db,
        deps.pool.status(now),
        id,
        statsPeriod(pageChrome.period, now),
        now,
      );
      return htmlResponse(
        h(ModelDetailPage, { chrome: pageChrome, modelId: id ?? raw.slice(0, 80), detail }),
        { status: detail === undefined ? 404 : 200 },
      );
    }),
  );
}
