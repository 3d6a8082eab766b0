/**
 * `deno run -A scripts/seed_history.ts PATH [--rows N] [--days D]`: a database
 * with a year of history for the stats API's speed checks (issue #14),
 * written through the recorder's own repositories (`insertRequest`,
 * `insertAttempts`, `upsertRollup`), so rows look exactly like served ones.
 *
 * Default: 1 000 000 requests spread evenly over 365 days up to now, over
 * 3 providers, 8 accounts and 12 models, with a realistic mix: ~93 %
 * completed, 3 % upstream errors, 1 % interrupted, 1.5 % refused before
 * routing (unknown model, wrong endpoint), 1 % client errors, 0.5 %
 * cancelled; 60 % streamed; 8 % failed over to a second account. Seeded
 * random numbers make the same file every run.
 */
import { openDatabase } from "../src/storage/db.ts";
import type { Db } from "../src/storage/db.ts";
import { migrate } from "../src/storage/migrate.ts";
import { MIGRATIONS } from "../src/storage/migrations.ts";
import { syncConfigRows } from "../src/storage/accounts_repo.ts";
import {
  insertAttempts,
  insertRequest,
  mergeRollup,
  rollupKey,
  rollupOf,
  upsertRollup,
} from "../src/storage/requests_repo.ts";
import type { IdLookup, RollupRow } from "../src/storage/requests_repo.ts";
import { DayRollups } from "../src/storage/day_rollups_repo.ts";
import type { AttemptRecord, RequestOutcome, RequestStart } from "../src/stats/types.ts";

const DAY_MS = 86_400_000;
const BATCH = 20_000;
const ROLLUP_BUCKET_MS = 300_000;

const PROVIDERS = [
  { id: "groq", models: ["llama-3.3-70b", "gpt-oss-20b", "gpt-oss-120b", "qwen3-32b"] },
  { id: "opencode-go", models: ["glm-4.6", "kimi-k2", "qwen3-coder", "deepseek-v3"] },
  { id: "anthropic", models: ["claude-sonnet-4", "claude-haiku-4", "claude-opus-4", "claude-3-5"] },
];
const ACCOUNTS = [
  ["groq-1", "groq"],
  ["groq-2", "groq"],
  ["groq-3", "groq"],
  ["oc-1", "opencode-go"],
  ["oc-2", "opencode-go"],
  ["ant-1", "anthropic"],
  ["ant-2", "anthropic"],
  ["ant-3", "anthropic"],
] as const;
const IPS = ["192.168.1.10", "192.168.1.11", "192.168.1.12", "192.168.1.20", "10.0.0.5"];

/** mulberry32: a small seeded generator, so every run writes the same history. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Options {
  path: string;
  rows: number;
  days: number;
  now: number;
}

function parseArgs(args: string[]): Options {
  const path = args.find((a) => !a.startsWith("--"));
  if (path === undefined) {
    console.error("usage: seed_history.ts PATH [--rows N] [--days D]");
    Deno.exit(1);
  }
  const flag = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    const n = i < 0 ? fallback : Number(args[i + 1]);
    if (!Number.isInteger(n) || n <= 0) {
      console.error(`${name} must be a positive whole number`);
      Deno.exit(1);
    }
    return n;
  };
  return { path, rows: flag("--rows", 1_000_000), days: flag("--days", 365), now: Date.now() };
}

/** Writes the history; returns how many request rows were inserted. */
export function seedHistory(db: Db, o: Omit<Options, "path">): number {
  const rand = random(14);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)];
  const names = syncConfigRows(
    db,
    PROVIDERS.map((p) => ({
      id: p.id,
      baseUrl: `https://${p.id}.invalid/v1`,
      protocols: [p.id === "anthropic" ? "anthropic" : "openai"],
    })),
    ACCOUNTS.map(([name, providerId]) => ({
      name,
      providerId,
      apiKeyEnv: `${name.toUpperCase().replace("-", "_")}_KEY`,
      enabled: true,
      weight: 1,
    })),
    o.now - o.days * DAY_MS,
  );
  const ids: IdLookup = { accountId: (n) => (n === undefined ? null : names.get(n) ?? null) };
  const rollups = new Map<string, RollupRow>();
  const first = o.now - o.days * DAY_MS;
  const step = (o.now - first) / o.rows;
  let written = 0;
  while (written < o.rows) {
    db.transaction(() => {
      const days = new DayRollups();
      const end = Math.min(o.rows, written + BATCH);
      for (let i = written; i < end; i++) {
        const at = Math.floor(first + i * step);
        const { start, outcome, routing } = oneRequest(i, at, rand, pick);
        const row = insertRequest(db, ids, start, outcome, routing, days);
        if (row !== undefined) insertAttempts(db, ids, row, start.startedAt, outcome, days);
        const r = rollupOf(ids, ROLLUP_BUCKET_MS, start, outcome);
        const key = rollupKey(r);
        const had = rollups.get(key);
        if (had === undefined) rollups.set(key, r);
        else mergeRollup(had, r);
      }
      days.write(db);
      written = end;
    });
  }
  db.transaction(() => {
    for (const r of rollups.values()) upsertRollup(db, r);
  });
  return written;

  function oneRequest(
    i: number,
    at: number,
    rand: () => number,
    pick: <T>(list: readonly T[]) => T,
  ): { start: RequestStart; outcome: RequestOutcome; routing: string | null } {
    const provider = pick(PROVIDERS);
    const model = pick(provider.models);
    const accounts = ACCOUNTS.filter(([, p]) => p === provider.id).map(([n]) => n);
    const streamed = rand() < 0.6;
    const start: RequestStart = {
      requestId: `seed-${i}`,
      startedAt: at,
      clientProtocol: provider.id === "anthropic" ? "anthropic" : "openai",
      requestedModel: model,
      streamed,
      bytesIn: 2_000 + Math.floor(rand() * 40_000),
      clientIp: pick(IPS),
    };
    const roll = rand();
    const base = {
      cacheReadTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
      bytesOut: 0,
      costMicros: 0,
      inputTokens: 0,
      outputTokens: 0,
      exactness: "unknown" as const,
    };
    if (roll < 0.015) {
      // Refused before routing: a model nobody serves, or the other protocol's endpoint.
      start.requestedModel = rand() < 0.5 ? `no-such-${model}` : model;
      return {
        start,
        outcome: {
          ...base,
          status: "client_error",
          completedAt: at + 2,
          statusCode: start.requestedModel === model ? 400 : 404,
          errorClass: "local_validation",
          errorMessage: "refused before routing",
          latencyMs: 2,
          attempts: [],
        },
        routing: null,
      };
    }
    const failover = rand() < 0.08 && accounts.length > 1;
    const chosen = pick(accounts);
    const firstAccount = failover ? accounts.find((a) => a !== chosen)! : chosen;
    const overhead = 1 + Math.floor(rand() * 4);
    const ttft = 150 + Math.floor(rand() * rand() * 3_000);
    const latency = ttft + (streamed ? Math.floor(rand() * 20_000) : Math.floor(rand() * 200));
    const attempts: AttemptRecord[] = [];
    if (failover) {
      attempts.push({
        attemptNumber: 1,
        accountName: firstAccount,
        providerId: provider.id,
        modelId: model,
        upstreamProtocol: start.clientProtocol,
        startedAt: at + overhead,
        completedAt: at + overhead + 80,
        statusCode: rand() < 0.7 ? 429 : 503,
        errorClass: "rate_limited",
        errorMessage: "rate limited",
        retryCategory: "temporary",
        latencyMs: 80,
        bytesOut: 0,
      });
    }
    let status: RequestOutcome["status"] = "completed";
    const r2 = rand();
    if (r2 < 0.03) status = "error";
    else if (r2 < 0.04) status = "interrupted";
    else if (r2 < 0.05) status = "client_error";
    else if (r2 < 0.055) status = "cancelled";
    const ok = status === "completed";
    const input = 500 + Math.floor(rand() * 30_000);
    const output = ok ? 50 + Math.floor(rand() * 2_000) : 0;
    const cacheRead = ok && rand() < 0.5 ? Math.floor(input * rand()) : 0;
    attempts.push({
      attemptNumber: attempts.length + 1,
      accountName: chosen,
      providerId: provider.id,
      modelId: model,
      upstreamProtocol: start.clientProtocol,
      startedAt: at + overhead + (failover ? 80 : 0),
      completedAt: at + latency,
      statusCode: ok ? 200 : status === "error" ? 502 : status === "client_error" ? 400 : undefined,
      errorClass: ok ? undefined : `seed_${status}`,
      errorMessage: ok ? undefined : "seeded failure",
      retryCategory: ok ? undefined : status === "error" ? "transient" : "never",
      latencyMs: latency - overhead,
      firstByteMs: ok ? ttft : undefined,
      bytesOut: ok ? 400 + output * 4 : 0,
    });
    const cost = ok ? Math.round(input * 3 + output * 15 + cacheRead * 0.3) : 0;
    const decision = (n: number, selected: string, excluded: string[]) => [
      n,
      at + overhead,
      null,
      names.get(selected),
      Math.round(rand() * 1000) / 1000,
      accounts.length - excluded.length,
      accounts.filter((a) => !excluded.includes(a)).map((a) => [
        names.get(a),
        0,
        Math.round(rand() * 1000) / 1000,
        1,
        rand(),
        rand(),
        rand(),
        0,
        0,
        0,
        1,
      ]),
      excluded.map((a) => [names.get(a), "attempted", null]),
    ];
    const routing = failover
      ? [decision(1, firstAccount, []), decision(2, chosen, [firstAccount])]
      : [decision(1, chosen, [])];
    return {
      start,
      outcome: {
        ...base,
        status,
        completedAt: at + latency,
        statusCode: attempts[attempts.length - 1].statusCode ??
          (status === "cancelled" ? 499 : 500),
        errorClass: ok ? undefined : `seed_${status}`,
        errorMessage: ok ? undefined : "seeded failure",
        modelId: model,
        providerId: provider.id,
        accountName: chosen,
        upstreamProtocol: start.clientProtocol,
        inputTokens: input - cacheRead,
        outputTokens: output,
        cacheReadTokens: cacheRead,
        reasoningTokens: ok ? Math.floor(output * rand() * 0.3) : 0,
        costMicros: cost,
        exactness: ok ? (rand() < 0.9 ? "derived" : "estimated") : "unknown",
        latencyMs: latency,
        firstByteMs: ok || status === "cancelled" ? ttft : undefined,
        bytesOut: ok ? 400 + output * 4 : 0,
        attempts,
      },
      routing: JSON.stringify(routing),
    };
  }
}

if (import.meta.main) {
  const o = parseArgs(Deno.args);
  const db = openDatabase({ path: o.path, synchronous: "OFF" });
  migrate(db, MIGRATIONS, { clock: () => o.now });
  const t0 = performance.now();
  const n = seedHistory(db, o);
  db.close();
  console.log(
    `${o.path}: ${n} requests over ${o.days} days in ${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s`,
  );
}
