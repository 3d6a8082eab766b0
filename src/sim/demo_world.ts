/**
 * The demo's simulated providers (`eggpool demo`): three providers on
 * loopback, built on the same simulator the tests use, each account with its
 * own prompt cache and capacity, one account that is rate-limited now and
 * then, one provider that is slow. {@linkcode demoConfigToml} turns them into
 * an ordinary EggPool config, read by the ordinary loader.
 */
import type { Protocol } from "../core/protocol.ts";
import { type MockLatency, type MockUpstream, startMockUpstream } from "./mock_upstream.ts";
import type { RecordedRequest } from "./_mock_types.ts";

/** One simulated account: its key on the simulator and its share of work. */
export interface DemoAccount {
  readonly name: string;
  readonly key: string;
  /** `weight` in the config: how much work it takes relative to its tier. */
  readonly weight: number;
  /** Share of its completions answered 429 with `Retry-After` (0: never). */
  readonly rateLimitShare?: number;
}

/** One simulated provider. */
export interface DemoProvider {
  readonly id: string;
  readonly protocol: Protocol;
  readonly models: readonly string[];
  readonly accounts: readonly DemoAccount[];
  readonly latency?: MockLatency;
  /** What the banner says about it. */
  readonly note: string;
}

/** Seconds a rate-limited answer asks the client to wait. */
const RETRY_AFTER_S = 5;

/**
 * The cast. Model ids say which protocol serves them: transcoding does not
 * exist yet, so Anthropic clients need a model of `sim-anthropic` and OpenAI
 * clients one of the two OpenAI-protocol providers.
 */
export const DEMO_PROVIDERS: readonly DemoProvider[] = [
  {
    id: "sim-openai",
    protocol: "openai",
    models: ["sim-gpt-small", "sim-gpt-large"],
    accounts: [
      { name: "openai-main", key: "sim-key-openai-main", weight: 2 },
      { name: "openai-spare", key: "sim-key-openai-spare", weight: 1 },
      { name: "openai-flaky", key: "sim-key-openai-flaky", weight: 1, rateLimitShare: 0.2 },
    ],
    note: "OpenAI protocol; openai-flaky is rate-limited now and then (429, Retry-After)",
  },
  {
    id: "sim-anthropic",
    protocol: "anthropic",
    models: ["sim-claude-sonnet", "sim-claude-haiku"],
    accounts: [
      { name: "claude-team", key: "sim-key-claude-team", weight: 3 },
      { name: "claude-solo", key: "sim-key-claude-solo", weight: 1 },
    ],
    note: "Anthropic protocol, key in x-api-key",
  },
  {
    id: "sim-slow",
    protocol: "openai",
    models: ["sim-gpt-small"],
    accounts: [{ name: "slow-1", key: "sim-key-slow-1", weight: 1 }],
    latency: { headersMs: 400, firstByteMs: 600, perFrameMs: 40 },
    note: "OpenAI protocol; slow: about a second to the first token",
  },
];

/** Prices (dollars per million tokens) so the dashboard's cost columns mean something. */
const PRICES: Readonly<Record<string, { input: number; output: number; cacheRead: number }>> = {
  "sim-gpt-small": { input: 0.15, output: 0.6, cacheRead: 0.075 },
  "sim-gpt-large": { input: 2.5, output: 10, cacheRead: 1.25 },
  "sim-claude-sonnet": { input: 3, output: 15, cacheRead: 0.3 },
  "sim-claude-haiku": { input: 0.8, output: 4, cacheRead: 0.08 },
};

/** The running simulators, one per provider. */
export interface DemoWorld extends AsyncDisposable {
  readonly providers: readonly { spec: DemoProvider; upstream: MockUpstream }[];
  close(): Promise<void>;
}

function isCompletion(request: RecordedRequest): boolean {
  return request.route === "chat_completions" || request.route === "messages";
}

/** Starts every simulated provider on `127.0.0.1` with an ephemeral port. */
export async function startDemoWorld(
  providers: readonly DemoProvider[] = DEMO_PROVIDERS,
): Promise<DemoWorld> {
  const started: { spec: DemoProvider; upstream: MockUpstream }[] = [];
  const close = async () => {
    await Promise.all(started.map((p) => p.upstream.close()));
  };
  try {
    for (const spec of providers) {
      const upstream = await startMockUpstream({
        keys: spec.accounts.map((a) => a.key),
        models: spec.models,
        strictModels: true,
        modelsShape: spec.protocol,
        cache: "prefix",
        latency: spec.latency,
        // A demo may run for days: keep no request log, so memory stays flat.
        record: false,
      });
      started.push({ spec, upstream });
      for (const account of spec.accounts) {
        const share = account.rateLimitShare ?? 0;
        if (share <= 0) continue;
        upstream.script.set(account.key, {
          status: 429,
          retryAfter: RETRY_AFTER_S,
          message: "Simulated rate limit: try again shortly",
          match: (request) => isCompletion(request) && Math.random() < share,
        });
      }
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { providers: started, close, [Symbol.asyncDispose]: close };
}

/** Where the demo server listens and keeps its data. */
export interface DemoConfigOptions {
  port: number;
  localKey: string;
  dbPath: string;
}

/** A TOML string literal (JSON's escapes are valid TOML basic-string escapes). */
function str(value: string): string {
  return JSON.stringify(value);
}

/** The demo's config: an ordinary EggPool config pointing at the simulators. */
export function demoConfigToml(world: DemoWorld, options: DemoConfigOptions): string {
  const lines = [
    "# eggpool demo: generated for this run. The simulated providers listen on",
    "# loopback ports that change on every start; the keys below are simulated.",
    "",
    "[server]",
    'host = "127.0.0.1"',
    `port = ${options.port}`,
    `api_key = ${str(options.localKey)}`,
    "shutdown_grace_s = 3",
    "",
    "[database]",
    `path = ${str(options.dbPath)}`,
    "",
    "[metrics]",
    "# Rows reach the database four times a second, so the pages fill at once.",
    'write_mode = "balanced"',
    "timeseries_bucket_s = 60",
    "",
    "[dashboard]",
    "refresh_interval_s = 5",
    "",
  ];
  for (const { spec, upstream } of world.providers) {
    const table = `providers.${spec.id}`;
    lines.push(
      `# ${spec.note}`,
      `[${table}]`,
      `id = ${str(spec.id)}`,
      `base_url = ${str(upstream.url)}`,
      `protocols = [${str(spec.protocol)}]`,
    );
    if (spec.protocol === "anthropic") {
      lines.push("", `[${table}.auth]`, 'mode = "api_key"', 'header = "x-api-key"');
    }
    for (const account of spec.accounts) {
      lines.push(
        "",
        `[[${table}.accounts]]`,
        `name = ${str(account.name)}`,
        `api_key = ${str(account.key)}`,
        `weight = ${account.weight}`,
      );
    }
    lines.push("");
  }
  for (const [model, price] of Object.entries(PRICES)) {
    lines.push(
      `[model_overrides.${str(model)}]`,
      `input_price_per_1k = "$${price.input} / 1M"`,
      `output_price_per_1k = "$${price.output} / 1M"`,
      `cache_read_per_million_microdollars = ${Math.round(price.cacheRead * 1_000_000)}`,
      "",
    );
  }
  return lines.join("\n");
}

/** The models each protocol can reach through the demo, first one the default. */
export function demoModels(
  providers: readonly DemoProvider[] = DEMO_PROVIDERS,
): Record<Protocol, string[]> {
  const out: Record<Protocol, string[]> = { openai: [], anthropic: [] };
  for (const p of providers) {
    for (const m of p.models) if (!out[p.protocol].includes(m)) out[p.protocol].push(m);
  }
  return out;
}
