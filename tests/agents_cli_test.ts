/**
 * Real coding-agent CLIs through EggPool (issues #15 and #16): each client is
 * installed from npm by `deno task test` (scripts/test_deps.ts) into `.ci/agents/`, configured only by
 * `eggpool configsetup` in a temp HOME, run headless, and reaches a mock
 * upstream that speaks only the other protocol, so every turn is transcoded.
 * A tap between the client and EggPool notes every request the client makes
 * (the configured base URL is the tap's), so an endpoint EggPool lacks shows up
 * as a failed status instead of going unnoticed.
 *
 * Clients covered: Claude Code (`@anthropic-ai/claude-code`), OpenCode
 * (`opencode-ai`) and Codex (`@openai/codex`); versions are pinned in scripts/test_deps.ts.
 */
import assert from "node:assert/strict";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import type { RecordedRequest } from "../src/sim/mock_upstream.ts";
import { isolatedEnv, runEggpool } from "./_helpers/cli.ts";
import { LOCAL_KEY, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { agentBin, runAgent, startTap, type Tap } from "./_helpers/agents.ts";

type Json = Record<string, unknown>;

/** One provider of one protocol over the mock. */
function onlyToml(mockUrl: string, protocol: "openai" | "anthropic"): string {
  const lines = [`[providers.only]`, `id = "only"`, `base_url = "${mockUrl}"`];
  lines.push(`protocols = ["${protocol}"]`);
  if (protocol === "anthropic") {
    lines.push(`[providers.only.auth]`, `mode = "api_key"`, `header = "x-api-key"`);
  }
  lines.push(`[[providers.only.accounts]]`, `name = "only-1"`, `api_key = "sk-only-upstream"`);
  return lines.join("\n") + "\n";
}

/** The text of a message's content, string or parts (OpenAI or Anthropic blocks). */
function textParts(content: unknown): string[] {
  if (typeof content === "string") return [content];
  if (!Array.isArray(content)) return [];
  return content.flatMap((part: Json) => {
    if (part.type === "text" && typeof part.text === "string") return [part.text];
    if (part.type === "tool_result") return textParts(part.content);
    return [];
  });
}

/**
 * What the user typed last: the last user message that is more than the tagged
 * context a client adds (`<system-reminder>`, `<environment_context>`), less those tags.
 */
function lastPrompt(messages: Json[]): string {
  for (const m of messages.toReversed()) {
    if (m.role !== "user") continue;
    const text = textParts(m.content).join("\n").replace(/<([a-z_-]+)>[\s\S]*?<\/\1>/g, "").trim();
    if (text !== "") return text;
  }
  return "";
}

/**
 * The mock's answer, the same over both protocols: after a tool result, the
 * result's text; otherwise which answer this is (counting the assistant turns
 * the client sent back as history) and the prompt it answers.
 */
function agentReply(request: RecordedRequest): string {
  const messages = ((request.body as Json).messages ?? []) as Json[];
  const last = messages.at(-1);
  const toolResult = last?.role === "tool"
    ? textParts(last.content)
    : (Array.isArray(last?.content) ? last.content as Json[] : [])
      .filter((b) => b.type === "tool_result").flatMap((b) => textParts(b.content));
  if (toolResult.length > 0) return `The note says: ${toolResult.join(" ").trim()}`;
  const earlier = messages.filter((m) => m.role === "assistant").length;
  return `Answer ${earlier + 1} to: ${lastPrompt(messages)}`;
}

/** Mock (one protocol) ← EggPool ← tap, a temp HOME, and a project folder to run in. */
async function world(root: string, protocol: "openai" | "anthropic") {
  const mock = await startMockUpstream({
    models: ["claude-sonnet-mock", "claude-haiku-mock"],
    reply: agentReply,
  });
  const tap = startTap();
  // The config's port is the tap's: configsetup points the client there, and the
  // tap forwards to EggPool, which listens on its own free port.
  const pool = await startEggPool({
    dir: root,
    toml: onlyToml(mock.url, protocol),
    server: `port = ${tap.port}`,
  });
  tap.target = pool.origin;
  const env = isolatedEnv(root);
  const project = `${root}/project`;
  await Deno.mkdir(project, { recursive: true });
  await Deno.mkdir(env.HOME, { recursive: true });
  const configsetup = (client: string) =>
    runEggpool(["--config", `${root}/config.toml`, "configsetup", client], { cwd: root, env });
  return { mock, tap, pool, env, project, configsetup };
}

function completionsOf(mock: { requests: RecordedRequest[] }): RecordedRequest[] {
  return mock.requests.filter((r) => r.route === "chat_completions" || r.route === "messages");
}

/** Every request the client made was answered with a success status. */
function assertNoFailedCalls(tap: Tap): void {
  const failed = tap.seen.filter((r) => r.status >= 400);
  assert.deepEqual(failed, [], `the client asked for: ${JSON.stringify(tap.seen)}`);
}

/** Runs `claude -p PROMPT --output-format json ...extra` and returns its result object. */
async function claude(w: Awaited<ReturnType<typeof world>>, prompt: string, extra: string[] = []) {
  const r = await runAgent(
    agentBin("claude"),
    ["-p", prompt, "--output-format", "json", ...extra],
    { cwd: w.project, env: w.env },
  );
  assert.equal(r.code, 0, `claude exited ${r.code}: ${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout) as {
    result: string;
    is_error: boolean;
    num_turns: number;
    session_id: string;
  };
}

async function setupClaude(w: Awaited<ReturnType<typeof world>>): Promise<void> {
  const setup = await w.configsetup("claude-code");
  assert.equal(setup.code, 0, setup.stderr);
  const settings = JSON.parse(
    await Deno.readTextFile(`${w.env.HOME}/.claude/settings.json`),
  ) as { env: Record<string, string> };
  assert.equal(settings.env.ANTHROPIC_BASE_URL, w.tap.origin);
  assert.equal(settings.env.ANTHROPIC_MODEL, "claude-sonnet-mock/only");
}

Deno.test("Claude Code through EggPool to an OpenAI-only account: two turns, the second with --continue", async () => {
  await using tmp = await withTmpDir();
  const w = await world(tmp.path, "openai");
  await using _mock = w.mock;
  await using _pool = w.pool;
  await using _tap = w.tap;
  await setupClaude(w);

  const first = await claude(w, "Which protocol do you speak?");
  assert.equal(first.is_error, false);
  assert.equal(first.result, "Answer 1 to: Which protocol do you speak?");
  const second = await claude(w, "And what did you just say?", ["--continue"]);
  assert.equal(second.result, "Answer 2 to: And what did you just say?");
  assert.equal(second.session_id, first.session_id, "--continue resumed the same session");

  const calls = completionsOf(w.mock);
  assert.ok(calls.every((r) => r.route === "chat_completions"), "the upstream saw only OpenAI");
  const last = calls.at(-1)!.body as Json;
  const history = (last.messages as Json[]).filter((m) => m.role === "assistant");
  assert.deepEqual(history.map((m) => textParts(m.content).join("")), [first.result]);
  assert.equal(last.model, "claude-sonnet-mock");

  const rows = w.pool.query(
    "SELECT client_protocol, upstream_protocol, status, requested_model FROM requests",
  );
  assert.equal(rows.length, calls.length, "one stats row per upstream call");
  for (const row of rows) {
    assert.deepEqual(
      [row.client_protocol, row.upstream_protocol, row.status],
      ["anthropic", "openai", "completed"],
    );
  }
  assert.ok(rows.some((r) => r.requested_model === "claude-sonnet-mock/only"));
  assertNoFailedCalls(w.tap);
  assert.ok(w.tap.seen.some((r) => r.method === "POST" && r.path.startsWith("/v1/messages")));
});

Deno.test("Claude Code through EggPool to an OpenAI-only account: a Read tool round trip", async () => {
  await using tmp = await withTmpDir();
  const w = await world(tmp.path, "openai");
  await using _mock = w.mock;
  await using _pool = w.pool;
  await using _tap = w.tap;
  await setupClaude(w);
  const note = `${w.project}/note.txt`;
  await Deno.writeTextFile(note, "the pelican code is 4242\n");
  w.mock.configure({ toolCall: { name: "Read", arguments: { file_path: note } } });

  const out = await claude(w, "Read note.txt and tell me the code.", ["--allowedTools", "Read"]);
  assert.equal(out.is_error, false);
  assert.match(out.result, /^The note says: .*the pelican code is 4242/);
  assert.equal(out.num_turns, 2, "one turn asked for the tool, the next answered with its result");

  const calls = completionsOf(w.mock);
  const toolTurn = calls.find((r) =>
    ((r.body as Json).messages as Json[]).some((m) => m.role === "tool")
  );
  assert.ok(toolTurn !== undefined, "the tool result went upstream as an OpenAI tool message");
  const messages = (toolTurn.body as Json).messages as Json[];
  const asked = messages.find((m) => Array.isArray(m.tool_calls)) as
    | { tool_calls: { id: string; function: { name: string; arguments: string } }[] }
    | undefined;
  const answered = messages.find((m) => m.role === "tool") as { tool_call_id: string };
  assert.equal(asked?.tool_calls[0].function.name, "Read");
  assert.deepEqual(JSON.parse(asked!.tool_calls[0].function.arguments), { file_path: note });
  assert.equal(answered.tool_call_id, asked!.tool_calls[0].id, "tool ids survive the round trip");
  const rows = w.pool.query("SELECT client_protocol, upstream_protocol, status FROM requests");
  assert.equal(rows.length, calls.length);
  assert.ok(
    rows.every((r) => r.client_protocol === "anthropic" && r.upstream_protocol === "openai"),
  );
  assertNoFailedCalls(w.tap);
});

/** Variables that keep OpenCode off the network: no update check, model catalog or downloads. */
const OPENCODE_OFFLINE = {
  OPENCODE_DISABLE_AUTOUPDATE: "1",
  OPENCODE_DISABLE_MODELS_FETCH: "1",
  OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
  OPENCODE_DISABLE_DEFAULT_PLUGINS: "1",
  OPENCODE_DISABLE_SHARE: "1",
};

/** The JSON events `opencode run --format json` prints, one a line. */
type OpencodeEvent = { type: string; part: Json & { text?: string; tool?: string } };

Deno.test("OpenCode through EggPool to an Anthropic-only account: a read tool round trip in one run", async () => {
  await using tmp = await withTmpDir();
  const w = await world(tmp.path, "anthropic");
  await using _mock = w.mock;
  await using _pool = w.pool;
  await using _tap = w.tap;
  const setup = await w.configsetup("opencode");
  assert.equal(setup.code, 0, setup.stderr);
  const config = JSON.parse(
    await Deno.readTextFile(`${w.env.XDG_CONFIG_HOME}/opencode/opencode.json`),
  ) as { provider: { eggpool: { options: { baseURL: string } } } };
  assert.equal(config.provider.eggpool.options.baseURL, `${w.tap.origin}/v1`);
  const note = `${w.project}/note.txt`;
  await Deno.writeTextFile(note, "the heron code is 7373\n");
  w.mock.configure({ toolCall: { name: "read", arguments: { filePath: note } } });

  const r = await runAgent(
    agentBin("opencode"),
    [
      "run",
      "--model",
      "eggpool/claude-sonnet-mock/only",
      "--format",
      "json",
      "Read note.txt and tell me the code.",
    ],
    { cwd: w.project, env: { ...w.env, ...OPENCODE_OFFLINE } },
  );
  assert.equal(r.code, 0, `opencode exited ${r.code}: ${r.stderr}\n${r.stdout}`);
  const events = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) =>
    JSON.parse(l) as OpencodeEvent
  );
  const used = events.filter((e) => e.type === "tool_use").map((e) => e.part.tool);
  assert.deepEqual(used, ["read"], r.stdout);
  // The mock's Anthropic reply says a sentence before its tool_use block; both arrive.
  const texts = events.filter((e) => e.type === "text").map((e) => e.part.text);
  assert.equal(texts[0], "I'll use the read tool.");
  assert.match(texts.at(-1)!, /^The note says: [\s\S]*the heron code is 7373/);

  const calls = completionsOf(w.mock);
  assert.ok(calls.every((c) => c.route === "messages"), "the upstream saw only Anthropic");
  const toolTurn = calls.find((c) =>
    ((c.body as Json).messages as Json[]).some((m) =>
      Array.isArray(m.content) && (m.content as Json[]).some((b) => b.type === "tool_result")
    )
  );
  assert.ok(toolTurn !== undefined, "the tool result went upstream as an Anthropic tool_result");
  const messages = (toolTurn.body as Json).messages as { role: string; content: Json[] }[];
  const use = messages.flatMap((m) => Array.isArray(m.content) ? m.content : [])
    .find((b) => b.type === "tool_use");
  const result = messages.flatMap((m) => Array.isArray(m.content) ? m.content : [])
    .find((b) => b.type === "tool_result");
  assert.equal(use?.name, "read");
  assert.deepEqual(use?.input, { filePath: note });
  assert.equal(result?.tool_use_id, use?.id, "tool ids survive the round trip");

  const rows = w.pool.query(
    "SELECT client_protocol, upstream_protocol, status, requested_model FROM requests",
  );
  assert.equal(rows.length, calls.length, "one stats row per upstream call");
  for (const row of rows) {
    assert.deepEqual(
      [row.client_protocol, row.upstream_protocol, row.status, row.requested_model],
      ["openai", "anthropic", "completed", "claude-sonnet-mock/only"],
    );
  }
  assertNoFailedCalls(w.tap);
  assert.ok(w.tap.seen.some((s) => s.method === "POST" && s.path === "/v1/chat/completions"));
});

/** Runs `codex exec --json ...args` and returns the agent messages it printed. */
async function codex(w: Awaited<ReturnType<typeof world>>, args: string[]): Promise<string[]> {
  const r = await runAgent(
    agentBin("codex"),
    ["exec", ...args],
    { cwd: w.project, env: { ...w.env, EGGPOOL_KEY: LOCAL_KEY } },
  );
  assert.equal(r.code, 0, `codex exited ${r.code}: ${r.stderr}\n${r.stdout}`);
  const events = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) =>
    JSON.parse(l) as { type: string; item?: { type: string; text?: string } }
  );
  assert.ok(events.some((e) => e.type === "turn.completed"), r.stdout);
  return events.filter((e) => e.type === "item.completed" && e.item?.type === "agent_message")
    .map((e) => e.item!.text!);
}

Deno.test("Codex through EggPool's /v1/responses to an Anthropic-only account: two turns, the second with exec resume", async () => {
  await using tmp = await withTmpDir();
  const w = await world(tmp.path, "anthropic");
  await using _mock = w.mock;
  await using _pool = w.pool;
  await using _tap = w.tap;
  const setup = await w.configsetup("codex");
  assert.equal(setup.code, 0, setup.stderr);
  const config = await Deno.readTextFile(`${w.env.HOME}/.codex/config.toml`);
  assert.match(config, new RegExp(`base_url = "${w.tap.origin}/v1"`));
  const model = /^model = "([^"]+)"/m.exec(config)?.[1];
  assert.ok(model !== undefined, config);

  const first = await codex(w, ["--skip-git-repo-check", "--json", "Which protocol do you speak?"]);
  assert.deepEqual(first, ["Answer 1 to: Which protocol do you speak?"]);
  const second = await codex(w, [
    "resume",
    "--last",
    "--skip-git-repo-check",
    "--json",
    "And what did you just say?",
  ]);
  assert.deepEqual(second, ["Answer 2 to: And what did you just say?"]);

  const calls = completionsOf(w.mock);
  assert.ok(calls.every((c) => c.route === "messages"), "the upstream saw only Anthropic");
  const last = calls.at(-1)!.body as Json;
  const history = (last.messages as Json[]).filter((m) => m.role === "assistant");
  assert.deepEqual(history.map((m) => textParts(m.content).join("")), first);

  const rows = w.pool.query(
    "SELECT client_protocol, upstream_protocol, status, requested_model FROM requests",
  );
  assert.equal(rows.length, calls.length, "one stats row per upstream call");
  for (const row of rows) {
    // Responses requests run through the Chat Completions pipeline: OpenAI on the client side.
    assert.deepEqual(
      [row.client_protocol, row.upstream_protocol, row.status, row.requested_model],
      ["openai", "anthropic", "completed", model],
    );
  }
  assertNoFailedCalls(w.tap);
  assert.ok(w.tap.seen.some((s) => s.method === "POST" && s.path === "/v1/responses"));
});
