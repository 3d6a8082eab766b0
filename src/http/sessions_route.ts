/**
 * `GET /api/sessions` (issue #5, always key-gated per 09-decisions): the live
 * conversation pins of prompt-cache affinity. Only key hashes are shown.
 * Paged (`limit`, `offset`, with the `total`): the book holds up to
 * `[routing].affinity_max_pins` pins, too many for one answer (issue #12).
 */
import type { Hono } from "hono";
import type { Pin } from "../accounts/pins.ts";
import type { KeyChecker } from "./auth.ts";
import type { HttpEnv } from "./server.ts";

/** Dependencies of {@linkcode mountSessionsRoute}. */
export interface SessionsRouteDeps {
  keys: KeyChecker;
  /** Undefined when `[routing].affinity = "off"`. */
  pins?: {
    list(): Pin[];
    movesByReason(): Record<string, number>;
    readonly evictions: number;
    readonly maxPins: number;
  };
  clock: () => number;
  /** True when the request carries a live dashboard session (the browser's sign-in cookie). */
  session?: (req: Request) => Promise<boolean>;
}

/** Sessions per page when `limit` is not given. */
export const SESSIONS_DEFAULT_LIMIT = 100;
/** Largest `limit` accepted. */
export const SESSIONS_MAX_LIMIT = 1000;

/** A query parameter as a whole number in `[min, max]`, or the reason it is not. */
function intParam(
  raw: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number | string {
  if (raw === undefined) return fallback;
  const n = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
  if (Number.isInteger(n) && n >= min && n <= max) return n;
  return `Invalid '${name}': expected a whole number from ${min} to ${max}, got '${
    raw.slice(0, 40)
  }'`;
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
  app.get("/api/sessions", async (c) => {
    if (!deps.keys.isAuthorized(c.req.raw.headers) && !(await deps.session?.(c.req.raw))) {
      return c.json({ error: "Invalid or missing API key" }, 401);
    }
    const limit = intParam(
      c.req.query("limit"),
      "limit",
      SESSIONS_DEFAULT_LIMIT,
      1,
      SESSIONS_MAX_LIMIT,
    );
    if (typeof limit === "string") return c.json({ error: limit, param: "limit" }, 400);
    const offset = intParam(c.req.query("offset"), "offset", 0, 0, 999_999_999);
    if (typeof offset === "string") return c.json({ error: offset, param: "offset" }, 400);
    const now = deps.clock();
    const pins = deps.pins?.list() ?? [];
    const maxPins = deps.pins?.maxPins;
    return c.json({
      affinity: deps.pins === undefined ? "off" : "on",
      now: new Date(now).toISOString(),
      total: pins.length,
      limit,
      offset,
      sessions: pins.slice(offset, offset + limit).map((p) => pinJson(p, now)),
      moves: deps.pins?.movesByReason() ?? {},
      max_pins: maxPins === undefined || maxPins === Infinity ? null : maxPins,
      evictions: deps.pins?.evictions ?? 0,
    });
  });
}
