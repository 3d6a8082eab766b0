/**
 * What `eggpool demo` prints once it listens: where everything is, and blocks
 * for curl, both SDKs, Claude Code and OpenCode that work as printed (what
 * each client reads: spec 10-clients.md). Every block starts with a
 * `--- name ---` line so a reader (or a test) can cut them apart.
 */
import type { Protocol } from "../../core/protocol.ts";
import type { DemoProvider } from "../../sim/demo_world.ts";
import type { TrafficLevel } from "../../sim/traffic.ts";

/** The banner's last line: everything above it is printed. */
export const DEMO_READY_LINE = "Press Ctrl-C to stop the demo.";

/** Everything the banner shows. */
export interface DemoBannerInfo {
  origin: string;
  localKey: string;
  dbPath: string;
  /** True when the database is the user's `--db` file, kept after exit. */
  dbKept: boolean;
  tempDir: string;
  traffic: TrafficLevel;
  providers: readonly DemoProvider[];
  models: Record<Protocol, readonly string[]>;
}

const TRAFFIC_TEXT: Record<TrafficLevel, string> = {
  none: "none (--traffic light or busy to watch the pages fill)",
  light: "light: 2 simulated agents, both protocols, streamed and not, with tool calls",
  busy: "busy: 6 simulated agents, both protocols, streamed and not, with tool calls",
};

/** Two lines per provider: its accounts (with their weights), then what is special about it. */
function providerLines(providers: readonly DemoProvider[]): string[] {
  const width = Math.max(...providers.map((p) => p.id.length)) + 2;
  return providers.flatMap((p) => {
    const accounts = p.accounts.map((a) =>
      a.weight === 1 ? a.name : `${a.name} (weight ${a.weight})`
    );
    return [`${p.id.padEnd(width)}${accounts.join(", ")}`, `${" ".repeat(width)}${p.note}`];
  });
}

/** The whole banner, ending with a newline. */
export function demoBanner(info: DemoBannerInfo): string {
  const { origin, localKey: key } = info;
  const openaiModel = info.models.openai[0];
  const anthropicModel = info.models.anthropic[0];
  const fastModel = info.models.anthropic.at(-1)!;
  const [first, ...rest] = providerLines(info.providers);
  const lines = [
    "",
    "EggPool demo: the real server against simulated providers on this machine; no real key",
    "is used and nothing leaves 127.0.0.1. Ctrl-C stops it and removes its temporary files.",
    "",
    `  Dashboard   ${origin}/  (sign in with the local key)`,
    `  Local key   ${key}`,
    `  API         ${origin}/v1  (OpenAI: /chat/completions, /models; Anthropic: /messages)`,
    `  Database    ${info.dbPath} ${info.dbKept ? "(kept)" : "(temporary)"}`,
    `  Temp files  ${info.tempDir} (removed on exit)`,
    `  Traffic     ${TRAFFIC_TEXT[info.traffic]}`,
    `  Providers   ${first}`,
    ...rest.map((line) => `              ${line}`),
    `  Models      OpenAI protocol: ${info.models.openai.join(", ")}`,
    `              Anthropic protocol: ${info.models.anthropic.join(", ")}`,
    "              (every client may ask for every model: a request for a model of the other",
    "              protocol is translated; the blocks below use native models, the fastest path)",
    "",
    "--- curl ---",
    `curl -s -w '\\n' ${origin}/v1/chat/completions -H 'Authorization: Bearer ${key}' \\`,
    "  -H 'content-type: application/json' \\",
    `  -d '{"model": "${openaiModel}", "messages": [{"role": "user", "content": "Hello"}]}'`,
    `curl -s -w '\\n' ${origin}/v1/messages -H 'x-api-key: ${key}' \\`,
    "  -H 'anthropic-version: 2023-06-01' \\",
    "  -H 'content-type: application/json' \\",
    `  -d '{"model": "${anthropicModel}", "max_tokens": 256, ` +
    `"messages": [{"role": "user", "content": "Hello"}]}'`,
    "",
    "--- OpenAI SDK (JavaScript; in Python: OpenAI(base_url=..., api_key=...)) ---",
    'import OpenAI from "openai";',
    `const openai = new OpenAI({ baseURL: "${origin}/v1", apiKey: "${key}" });`,
    "const reply = await openai.chat.completions.create({",
    `  model: "${openaiModel}",`,
    '  messages: [{ role: "user", content: "Hello" }],',
    "});",
    "console.log(reply.choices[0].message.content);",
    "",
    "--- Anthropic SDK (JavaScript; in Python: Anthropic(base_url=..., api_key=...)) ---",
    'import Anthropic from "@anthropic-ai/sdk";',
    `const anthropic = new Anthropic({ baseURL: "${origin}", apiKey: "${key}" });`,
    "const message = await anthropic.messages.create({",
    `  model: "${anthropicModel}",`,
    "  max_tokens: 256,",
    '  messages: [{ role: "user", content: "Hello" }],',
    "});",
    'console.log(message.content[0].type === "text" ? message.content[0].text : message.content);',
    "",
    "--- Claude Code (run these in the shell you start claude from) ---",
    `export ANTHROPIC_BASE_URL=${origin}`,
    `export ANTHROPIC_AUTH_TOKEN=${key}`,
    `export ANTHROPIC_MODEL=${anthropicModel}`,
    `export ANTHROPIC_DEFAULT_OPUS_MODEL=${anthropicModel}`,
    `export ANTHROPIC_DEFAULT_SONNET_MODEL=${anthropicModel}`,
    `export ANTHROPIC_DEFAULT_HAIKU_MODEL=${fastModel}`,
    `export ANTHROPIC_SMALL_FAST_MODEL=${fastModel}`,
    "export CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
    "claude",
    "",
    "--- OpenCode (opencode.json in your project; then: opencode) ---",
    JSON.stringify(openCodeConfig(origin, key, info.models.openai), null, 2),
    "",
    DEMO_READY_LINE,
  ];
  return lines.join("\n") + "\n";
}

/** OpenCode's custom provider block: limits per model, which it needs for compaction. */
function openCodeConfig(origin: string, key: string, models: readonly string[]) {
  return {
    $schema: "https://opencode.ai/config.json",
    provider: {
      eggpool: {
        npm: "@ai-sdk/openai-compatible",
        name: "EggPool demo",
        options: { baseURL: `${origin}/v1`, apiKey: key },
        models: Object.fromEntries(
          models.map((m) => [m, { name: m, limit: { context: 128000, output: 8192 } }]),
        ),
      },
    },
    model: `eggpool/${models.at(-1)}`,
    small_model: `eggpool/${models[0]}`,
  };
}
