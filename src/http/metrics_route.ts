/**
 * `GET /metrics`: the Prometheus text exposition format (docs/metrics.md).
 * Always gated by the local key when one is set, even with a public
 * dashboard: it names every account and its load. `[metrics] enabled =
 * false` leaves the route out (404).
 */
import type { Hono } from "hono";
import type { KeyChecker } from "./auth.ts";
import type { HttpEnv } from "./server.ts";
import { TEXT_FORMAT_CONTENT_TYPE } from "../metrics/text_format.ts";

/** The path of the route. */
export const METRICS_PATH = "/metrics";

/** Mounts the route; `render` builds the document at each scrape. */
export function mountMetricsRoute(
  app: Hono<HttpEnv>,
  keys: KeyChecker,
  render: () => string,
): void {
  app.get(METRICS_PATH, (c) => {
    if (!keys.isAuthorized(c.req.raw.headers)) {
      return c.json({ error: "Invalid or missing API key" }, 401);
    }
    return new Response(render(), {
      headers: { "content-type": TEXT_FORMAT_CONTENT_TYPE, "cache-control": "no-store" },
    });
  });
}
