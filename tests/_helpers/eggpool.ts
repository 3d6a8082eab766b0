/**
 * Starts EggPool in-process on a free loopback port against a real config
 * file and a real SQLite file in a temp dir, pointed at mock upstreams.
 */
import { DatabaseSync } from "node:sqlite";
import { loadConfig } from "../../src/config/load.ts";
import { runServer } from "../../src/http/serve.ts";
import type { App } from "../../src/app.ts";

/** The local key every test server uses. */
export const LOCAL_KEY = "ep_test_local_key_0123456789";

/** POSTs `body` as JSON to `origin + path` with the local key, plus `headers`. */
export function postWithKey(
  origin: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(origin + path, {
    method: "POST",
    headers: {
      authorization: `Bearer ${LOCAL_KEY}`,
      "content-type": "application/json",
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

/** POSTs `body` as JSON to the pool's OpenAI chat endpoint with the local key, plus `headers`. */
export function postChat(
  pool: { origin: string },
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return postWithKey(pool.origin, "/v1/chat/completions", body, headers);
}

/** A running EggPool for one test. */
export interface TestEggPool extends AsyncDisposable {
  /** Base URL such as `http://127.0.0.1:PORT`. */
  origin: string;
  app: App;
  dbPath: string;
  logs: string[];
  /** Stops the server (graceful) and waits for it to finish. */
  stop(): Promise<void>;
  /** Flushes buffered stats and returns rows of `sql`, read through a second connection. */
  query(sql: string, ...params: (string | number)[]): Record<string, unknown>[];
}

/** Options for {@linkcode startEggPool}. */
export interface StartEggPoolOptions {
  dir: string;
  /** TOML for the providers (and anything else) appended to the base config. */
  toml: string;
  /** Extra `key = value` lines for the `[server]` table. */
  server?: string;
  /** Extra `key = value` lines for the `[upstream]` table. */
  upstream?: string;
  /** Extra `key = value` lines for the `[database]` table. */
  database?: string;
  /** Extra `key = value` lines for the `[metrics]` table. */
  metrics?: string;
  graceMs?: number;
  env?: Record<string, string>;
  /** Starts without a local key (keyless loopback mode). */
  keyless?: boolean;
}

/** Two providers over one mock: `mockoai` speaks OpenAI, `mockant` Anthropic (x-api-key). */
export function mockProvidersToml(mockUrl: string, accountsPerProvider = 1): string {
  const lines: string[] = [];
  for (const [id, protocol] of [["mockoai", "openai"], ["mockant", "anthropic"]]) {
    lines.push(`[providers.${id}]`, `id = "${id}"`, `base_url = "${mockUrl}"`);
    lines.push(`protocols = ["${protocol}"]`);
    if (protocol === "anthropic") {
      lines.push(`[providers.${id}.auth]`, `mode = "api_key"`, `header = "x-api-key"`);
    }
    for (let i = 1; i <= accountsPerProvider; i++) {
      lines.push(
        `[[providers.${id}.accounts]]`,
        `name = "${id}-${i}"`,
        `api_key = "sk-${id}-key-${i}"`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * One provider of one protocol over a mock (`onlyoai` or `onlyant`, one
 * account keyed `sk-<id>`); `extra` is put first (e.g. a [transcoder] table).
 */
export function oneProtocolToml(
  mockUrl: string,
  protocol: "openai" | "anthropic",
  extra = "",
): string {
  const id = protocol === "openai" ? "onlyoai" : "onlyant";
  const lines = [
    `[providers.${id}]`,
    `id = "${id}"`,
    `base_url = "${mockUrl}"`,
    `protocols = ["${protocol}"]`,
  ];
  if (protocol === "anthropic") {
    lines.push(`[providers.${id}.auth]`, `mode = "api_key"`, `header = "x-api-key"`);
  }
  lines.push(`[[providers.${id}.accounts]]`, `name = "${id}-1"`, `api_key = "sk-${id}"`);
  return [extra, ...lines].join("\n") + "\n";
}

/** POSTs JSON with the local key and an `anthropic-version`, as both SDKs would. */
export async function postJson(origin: string, path: string, body: unknown): Promise<Response> {
  return await postWithKey(origin, path, body, { "anthropic-version": "2023-06-01" });
}

/** Starts EggPool; stop it with `await using` or `stop()`. */
export async function startEggPool(options: StartEggPoolOptions): Promise<TestEggPool> {
  const dbPath = `${options.dir}/usage.sqlite3`;
  const configPath = `${options.dir}/config.toml`;
  await Deno.writeTextFile(
    configPath,
    [
      "[server]",
      'host = "127.0.0.1"',
      options.keyless ? "" : `api_key = "${LOCAL_KEY}"`,
      options.server ?? "",
      "[upstream]",
      options.upstream ?? "",
      "[database]",
      `path = "${dbPath}"`,
      options.database ?? "",
      "[metrics]",
      'write_mode = "immediate"',
      options.metrics ?? "",
      options.toml,
    ].join("\n"),
  );
  const env = options.env ?? {};
  const loaded = await loadConfig(configPath, { env: (n) => env[n] });
  const logs: string[] = [];
  let stopNow!: () => void;
  const stop = new Promise<void>((r) => (stopNow = r));
  let ready!: (v: { port: number; app: App }) => void;
  const listening = new Promise<{ port: number; app: App }>((r) => (ready = r));
  const finished = runServer(loaded, {
    port: 0,
    stop,
    graceMs: options.graceMs ?? 2_000,
    log: (m) => logs.push(m),
    onListen: (addr, app) => ready({ port: addr.port, app }),
  });
  const { port, app } = await Promise.race([
    listening,
    finished.then(() => {
      throw new Error(`EggPool exited before listening: ${logs.join("\n")}`);
    }),
  ]);
  let stopped = false;
  const doStop = async () => {
    if (stopped) return;
    stopped = true;
    stopNow();
    await finished;
  };
  return {
    origin: `http://127.0.0.1:${port}`,
    app,
    dbPath,
    logs,
    stop: doStop,
    query(sql, ...params) {
      if (!stopped) app.recorder.flush();
      const db = new DatabaseSync(dbPath, { readOnly: true });
      try {
        return db.prepare(sql).all(...params) as Record<string, unknown>[];
      } finally {
        db.close();
      }
    },
    [Symbol.asyncDispose]: doStop,
  };
}
