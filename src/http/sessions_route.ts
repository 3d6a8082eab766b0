/**
 * `GET /api/sessions` (issue #5, always key-gated per 09-decisions): the live
 * conversation pins of prompt-cache affinity. Only key hashes are shown.
 */
import type { Hono } from "hono";
import type { Pin } from "../accounts/pins.ts";
import type { KeyChecker } from "./auth.ts";
import type { HttpEnv } from "./server.ts";

/** Dependencies of {@linkcode mountSessionsRoute}. */
export interface SessionsRouteDeps {
  keys: KeyChecker;
  /** Undefined when `[routing].affinity = "off"`. */
  pins?: { list(): Pin[]; movesByReason(): Record<string, number> };
  clock: () => number;
}

/** One pin in the `/api/sessions` shape. */
export function pinJson(p: Pin, now: number) {
  return {
    session_key_hash: p.key,
    account_name: p.account,
    provider_id: p.providerId,
    model_id: p.modelId,
    turns: p.turns,
    created_at: new Date(p.createdAt).toISOString(),
    last_used_at: new Date(p.lastUsedAt).toISOString(),
    idle_s: Math.max(0, Math.round((now - p.lastUsedAt) / 1000)),
  };
}

/** Mounts `GET /api/sessions` on `app`. */
export function mountSessionsRoute(app: Hono<HttpEnv>, deps: SessionsRouteDeps): void {
  app.get("/api/sessions", (c) => {
    if (!deps.keys.isAuthorized(c.req.raw.headers)) {
      return c.json({ error: "Invalid or missing API key" }, 401);
    }
    const now = deps.clock();
    const pins = deps.pins?.list() ?? [];
    return c.json({
      affinity: deps.pins === undefined ? "off" : "on",
      now: new Date(now).toISOString(),
      sessions: pins.map((p) => pinJson(p, now)),
      moves: deps.pins?.movesByReason() ?? {},
    });
  });
}
