/**
 * A real SQLite file seeded through the recorder's own repositories
 * (`insertRequest`, `insertAttempts`, `upsertRollup`) with requests whose
 * totals the stats API tests assert, and the API mounted on a Hono app the
 * way `src/app.ts` mounts it.
 */
import { Hono } from "hono";
import { openDatabase } from "../src/storage/db.ts";
import type { Db } from "../src/storage/db.ts";
import { migrate } from "../src/storage/migrate.ts";
import { MIGRATIONS } from "../src/storage/migrations.ts";
import { syncConfigRows } from "../src/storage/accounts_repo.ts";
import {
  insertAttempts,
  insertOperationalEvent,
  insertRequest,
  rollupOf,
  upsertRollup,
} from "../src/storage/requests_repo.ts";
import type { IdLookup } from "../src/storage/requests_repo.ts";
import type { AttemptRecord, RequestOutcome, RequestStart } from "../src/stats/types.ts";
import { createKeyChecker } from "../src/http/auth.ts";
import type { HttpEnv } from "../src/http/server.ts";
import { mountStatsApi } from "../src/http/stats_api/mod.ts";
import type { StatsApiDeps } from "../src/http/stats_api/mod.ts";

/** The fixed "now" of every seeded test: 2026-06-15 12:00:00 UTC. */
export const NOW = Date.UTC(2026, 5, 15, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Text that must never leave the API: stored error messages. */
export const SECRET_TEXT = "SECRET-UPSTREAM-TEXT";
export const KEY = "ep_stats_api_test_key_0123";

interface Seed {
  n: number;
  at: number;
  status: RequestOutcome["status"] | "pending";
  account?: string;
  provider?: string;
  model?: string;
  requested?: string;
  streamed?: boolean;
  fb?: number;
  lat?: number;
  input?: number;
  output?: number;
  cost?: number;
  exactness?: RequestOutcome["exactness"];
  bytesOut?: number;
  ip?: string;
  statusCode?: number;
  errorClass?: string;
  attempts?: Partial<AttemptRecord>[];
  routing?: unknown[];
}

/** Candidate row: account id then the 11 numbers of CANDIDATE_FIELDS' order. */
function cand(id: number, score: number): number[] {
  return [id, 0, score, 1, 0, 0, 0, 0, 0, 0, 0];
}

function seeds(id: (name: string) => number): Seed[] {
  const [a1, a2, a3] = ["a1", "a2", "a3"].map(id);
  const t = (n: number) => NOW - 30 * MIN + n * 1000;
  const decision = (attempt: number, chosen: number, excl: unknown[][]) => [
    attempt,
    t(0),
    null,
    chosen,
    0.5,
    2,
    [cand(chosen, 0.5)],
    excl,
  ];
  const dis = [a3, "disabled", null];
  const ok = { account: "a1", provider: "p1", model: "m1", ip: "10.0.0.1" };
  return [
    {
      n: 1,
      at: t(1),
      status: "completed",
      ...ok,
      streamed: true,
      fb: 100,
      lat: 1000,
      input: 100,
      output: 50,
      cost: 1000,
      exactness: "derived",
      bytesOut: 500,
      routing: [decision(1, a1, [dis])],
    },
    {
      n: 2,
      at: t(2),
      status: "completed",
      ...ok,
      account: "a2",
      ip: "10.0.0.2",
      streamed: true,
      fb: 300,
      lat: 2000,
      input: 200,
      output: 100,
      cost: 2000,
      exactness: "estimated",
      bytesOut: 600,
      routing: [decision(1, a2, [dis])],
    },
    {
      n: 3,
      at: t(3),
      status: "completed",
      ...ok,
      model: "m2",
      fb: 400,
      lat: 500,
      input: 10,
      output: 5,
      cost: 100,
      exactness: "derived",
      bytesOut: 50,
      routing: [decision(1, a1, [dis])],
    },
    {
      n: 4,
      at: t(4),
      status: "error",
      ...ok,
      account: "a2",
      statusCode: 502,
      errorClass: "upstream_server_error",
      lat: 800,
      attempts: [
        {
          accountName: "a1",
          statusCode: 429,
          errorClass: "rate_limited",
          retryCategory: "temporary",
        },
        {
          accountName: "a2",
          statusCode: 500,
          errorClass: "upstream_server_error",
          retryCategory: "transient",
        },
      ],
      routing: [decision(1, a1, [dis]), decision(2, a2, [dis, [a1, "attempted", null]])],
    },
    {
      n: 5,
      at: t(5),
      status: "client_error",
      requested: "nope-model",
      statusCode: 404,
      errorClass: "local_validation",
      lat: 2,
    },
    {
      n: 6,
      at: t(6),
      status: "client_error",
      requested: "claude-x",
      statusCode: 400,
      errorClass: "local_validation",
      lat: 1,
    },
    {
      n: 7,
      at: t(7),
      status: "completed",
      ...ok,
      account: "a2",
      streamed: true,
      fb: 200,
      lat: 1500,
      input: 50,
      output: 20,
      cost: 500,
      exactness: "derived",
      bytesOut: 400,
      attempts: [
        {
          accountName: "a1",
          statusCode: 429,
          errorClass: "rate_limited",
          retryCategory: "temporary",
        },
        { accountName: "a2", statusCode: 200 },
      ],
      routing: [decision(1, a1, [dis]), decision(2, a2, [dis, [a1, "attempted", null]])],
    },
    { n: 8, at: t(8), status: "pending", requested: "m1", streamed: true },
    {
      n: 9,
      at: t(9),
      status: "cancelled",
      ...ok,
      statusCode: 499,
      errorClass: "client_disconnected",
      attempts: [{ accountName: "a1", errorClass: "client_disconnected", retryCategory: "never" }],
      routing: [decision(1, a1, [dis])],
    },
    {
      n: 10,
      at: NOW - 5 * HOUR,
      status: "completed",
      account: "a3",
      provider: "p2",
      model: "m3",
      streamed: true,
      fb: 400,
      lat: 3000,
      input: 1000,
      output: 200,
      cost: 5000,
      exactness: "provider_reported",
      ip: "10.0.0.1",
    },
    {
      n: 11,
      at: NOW - 5 * HOUR + MIN,
      status: "interrupted",
      ...ok,
      errorClass: "process_interrupted",
      attempts: [{ accountName: "a1", errorClass: "process_interrupted", retryCategory: "none" }],
    },
    {
      n: 12,
      at: NOW - 3 * DAY,
      status: "completed",
      ...ok,
      input: 7,
      output: 3,
      cost: 10,
      lat: 100,
    },
    {
      n: 13,
      at: NOW - 40 * DAY,
      status: "completed",
      ...ok,
      input: 1,
      output: 1,
      cost: 1,
      lat: 10,
    },
    { n: 14, at: NOW - 3 * DAY + MIN, status: "pending", requested: "m1" },
  ];
}

function write(db: Db, ids: IdLookup, s: Seed): void {
  const start: RequestStart = {
    requestId: `req-${s.n}`,
    startedAt: s.at,
    clientProtocol: "openai",
    requestedModel: s.requested ?? s.model ?? "",
    streamed: s.streamed ?? false,
    bytesIn: 100,
    clientIp: s.ip ?? "10.0.0.1",
  };
  if (s.status === "pending") {
    insertRequest(db, ids, start);
    return;
  }
  const routed = s.account !== undefined;
  const attempts: AttemptRecord[] = (s.attempts ?? (routed ? [{}] : [])).map((a, i) => ({
    attemptNumber: i + 1,
    accountName: a.accountName ?? s.account!,
    providerId: s.provider!,
    modelId: s.model!,
    upstreamProtocol: "openai",
    startedAt: s.at + 5,
    completedAt: s.at + (s.lat ?? 10),
    statusCode: a.statusCode ?? s.statusCode,
    errorClass: a.errorClass,
    errorMessage: a.errorClass === undefined ? undefined : SECRET_TEXT,
    retryCategory: a.retryCategory,
    latencyMs: 50 * (i + 1),
    bytesOut: 0,
  }));
  const outcome: RequestOutcome = {
    status: s.status,
    completedAt: s.at + (s.lat ?? 10),
    statusCode: s.statusCode ?? (s.status === "completed" ? 200 : undefined),
    errorClass: s.errorClass,
    errorMessage: s.errorClass === undefined ? undefined : SECRET_TEXT,
    modelId: s.model,
    providerId: s.provider,
    accountName: s.account,
    upstreamProtocol: routed ? "openai" : undefined,
    inputTokens: s.input ?? 0,
    outputTokens: s.output ?? 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costMicros: s.cost ?? 0,
    exactness: s.exactness ?? "unknown",
    latencyMs: s.lat,
    firstByteMs: s.fb,
    bytesOut: s.bytesOut ?? 0,
    attempts,
  };
  const row = insertRequest(db, ids, start, outcome, s.routing ? JSON.stringify(s.routing) : null);
  insertAttempts(db, ids, row!, start.startedAt, outcome);
  upsertRollup(db, rollupOf(ids, 300_000, start, outcome));
}

/** Creates and seeds `path`; returns the open database. */
export function seedDatabase(path: string): Db {
  const db = openDatabase({ path });
  migrate(db, MIGRATIONS, { clock: () => NOW });
  const names = syncConfigRows(
    db,
    [
      { id: "p1", baseUrl: "http://127.0.0.1:1/v1", protocols: ["openai"] },
      { id: "p2", baseUrl: "http://127.0.0.1:1/v1", protocols: ["anthropic"] },
    ],
    [
      { name: "a1", providerId: "p1", apiKeyEnv: "K1", enabled: true, weight: 1 },
      { name: "a2", providerId: "p1", apiKeyEnv: "K2", enabled: true, weight: 1 },
      { name: "a3", providerId: "p2", apiKeyEnv: "K3", enabled: false, weight: 1 },
    ],
    NOW - 100 * DAY,
  );
  const ids: IdLookup = { accountId: (n) => (n === undefined ? null : names.get(n) ?? null) };
  db.transaction(() => {
    for (const s of seeds((n) => names.get(n)!)) write(db, ids, s);
    const ping = db.stmt(`INSERT INTO provider_pings (provider_id, account_id, probed_at,
      latency_ms, status_code, error, model_count) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    ping.run("p1", names.get("a1")!, NOW - 50 * MIN, 100, 200, null, 12);
    ping.run("p1", names.get("a2")!, NOW - 40 * MIN, 300, 500, SECRET_TEXT, null);
    ping.run("p2", names.get("a3")!, NOW - 30 * MIN, null, null, SECRET_TEXT, null);
    const event = db.stmt(`INSERT INTO account_events (account_id, event_type, details_json,
      occurred_at) VALUES (?, ?, ?, ?)`);
    event.run(
      names.get("a1")!,
      "rate_limited",
      JSON.stringify({ status_code: 429, error_detail: SECRET_TEXT, message: SECRET_TEXT }),
      NOW - 20 * MIN,
    );
    event.run(
      names.get("a2")!,
      "auth_failed",
      JSON.stringify({ status_code: 401 }),
      NOW - 10 * MIN,
    );
    insertOperationalEvent(db, "crash_recovery", { interrupted: 1 }, NOW - 2 * HOUR);
    insertOperationalEvent(db, "stale_request_finalizer", { finalized: 2 }, NOW - 3 * DAY);
  });
  return db;
}

/** The stats API on a Hono app over `db`, as `src/app.ts` mounts it. */
export function statsApp(
  db: Db,
  options: { isPublic: boolean; key?: string; extra?: Partial<StatsApiDeps> },
): Hono<HttpEnv> {
  const app = new Hono<HttpEnv>();
  mountStatsApi(app, {
    db,
    keys: createKeyChecker(options.key),
    isPublic: options.isPublic,
    clock: () => NOW,
    flush: () => {},
    ...options.extra,
  });
  return app;
}

/** GETs `path` with the key; returns status and parsed body. */
export async function getJson(
  app: Hono<HttpEnv>,
  path: string,
  headers: Record<string, string> = { authorization: `Bearer ${KEY}` },
): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const res = await app.request(`http://localhost${path}`, { headers });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), text };
}
