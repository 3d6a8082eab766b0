/**
 * `GET /api/stats/cache?hours=24` (issue #5): the share of input tokens served
 * from provider prompt caches, per account and per model, with the
 * conversation moves prompt-cache affinity made. Follows `[dashboard].public`.
 */
import type { Hono } from "hono";
import type { Db } from "../storage/db.ts";
import { cacheShares } from "../storage/cache_stats_repo.ts";
import type { CacheShareRow } from "../storage/cache_stats_repo.ts";
import type { KeyChecker } from "./auth.ts";
import type { HttpEnv } from "./server.ts";

/** Dependencies of {@linkcode mountCacheStatsRoute}. */
export interface CacheStatsDeps {
  db: Db;
  keys: KeyChecker;
  isPublic: boolean;
  clock: () => number;
  /** Flushes buffered stats first, so the view includes the latest requests. */
  flush(): void;
  /** Undefined when affinity is off. */
  moves?: {
    movesFrom(account: string): Record<string, number>;
    movesOfModel(modelId: string): Record<string, number>;
  };
}

const MAX_HOURS = 24 * 90;

function shareJson(row: CacheShareRow, moves: Record<string, number>) {
  const input = row.freshInputTokens + row.cacheReadTokens + row.cacheWriteTokens;
  return {
    requests: row.requests,
    input_tokens: input,
    cache_read_tokens: row.cacheReadTokens,
    cache_write_tokens: row.cacheWriteTokens,
    cache_share: input === 0 ? null : Math.round(row.cacheReadTokens / input * 10_000) / 10_000,
    moves,
  };
}

/** Mounts `GET /api/stats/cache` on `app`. */
export function mountCacheStatsRoute(app: Hono<HttpEnv>, deps: CacheStatsDeps): void {
  app.get("/api/stats/cache", (c) => {
    if (!deps.isPublic && !deps.keys.isAuthorized(c.req.raw.headers)) {
      return c.json({ error: "Invalid or missing API key" }, 401);
    }
    const hours = Number(c.req.query("hours") ?? "24");
    if (!Number.isFinite(hours) || hours <= 0 || hours > MAX_HOURS) {
      return c.json({ error: `hours must be a number in (0, ${MAX_HOURS}]` }, 400);
    }
    deps.flush();
    const since = deps.clock() - hours * 3_600_000;
    const accounts = Object.fromEntries(
      cacheShares(deps.db, since, "account").map((
        r,
      ) => [r.key, shareJson(r, deps.moves?.movesFrom(r.key) ?? {})]),
    );
    const models = Object.fromEntries(
      cacheShares(deps.db, since, "model").map((
        r,
      ) => [r.key, shareJson(r, deps.moves?.movesOfModel(r.key) ?? {})]),
    );
    return c.json({ hours, accounts, models });
  });
}
