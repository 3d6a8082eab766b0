/**
 * `eggpool demo` as a user runs it: a subprocess in a clean HOME and TMPDIR,
 * driven with the settings it printed (the real SDKs, the printed curl and
 * SDK blocks run as they are, Claude Code's and OpenCode's settings), then
 * stopped with a signal: exit 0 and nothing left behind.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { isolatedEnv, runEggpool } from "./_helpers/cli.ts";
import { type DemoSettings, isAlive, isListening, startDemo } from "./_helpers/demo.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const DENO_JSON = new URL("../deno.json", import.meta.url).pathname;

/** A clean HOME plus a TMPDIR of its own, so "no temporary file left" can be checked. */
async function demoEnv(root: string): Promise<Record<string, string>> {
  const env: Record<string, string> = { ...isolatedEnv(root), TMPDIR: `${root}/tmp` };
  await Deno.mkdir(env.TMPDIR, { recursive: true });
  await Deno.mkdir(env.HOME, { recursive: true });
  return env;
}

async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

/** `total_requests` of `/api/stats/summary`, the figure a script would ask for. */
async function summaryTotal(s: DemoSettings): Promise<number> {
  const res = await fetch(`${s.origin}/api/stats/summary?period=1h`, {
    headers: { authorization: `Bearer ${s.localKey}` },
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.period, "1h");
  return body.total_requests;
}

/** Waits (up to 10 s: the demo's stats reach SQLite in batches) until the summary counts `n`. */
async function summaryReaches(s: DemoSettings, n: number): Promise<number> {
  let total = await summaryTotal(s);
  for (let i = 0; i < 100 && total < n; i++) {
    await new Promise((r) => setTimeout(r, 100));
    total = await summaryTotal(s);
  }
  return total;
}

/** The value of `export NAME=value` in a shell block. */
function exported(block: string, name: string): string {
  const m = new RegExp(`^export ${name}=(\\S+)$`, "m").exec(block);
  assert.ok(m, `no ${name} in:\n${block}`);
  return m[1];
}

/** Runs a printed JavaScript block as a file, with the project's import map for the SDKs. */
async function runSnippet(dir: string, name: string, code: string): Promise<string> {
  const file = `${dir}/${name}.ts`;
  await Deno.writeTextFile(file, code);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", `--config=${DENO_JSON}`, file],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assert.equal(out.code, 0, dec.decode(out.stderr));
  return dec.decode(out.stdout);
}

Deno.test("eggpool demo: the printed settings work with both SDKs, curl, Claude Code's and OpenCode's; SIGINT leaves nothing", async () => {
  await using tmp = await withTmpDir();
  const env = await demoEnv(tmp.path);
  await using demo = await startDemo(["--traffic", "none", "--port", "0"], {
    cwd: tmp.path,
    env,
  });
  const s = demo.settings;
  assert.match(s.origin, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.match(s.localKey, /^ep_demo_[0-9a-f]{36}$/);
  assert.ok(s.tempDir.startsWith(`${env.TMPDIR}/eggpool-demo-`), s.tempDir);
  assert.equal(s.dbPath, `${s.tempDir}/usage.sqlite3`);
  assert.deepEqual(await entries(s.tempDir), [
    "config.toml",
    "usage.sqlite3",
    "usage.sqlite3-shm",
    "usage.sqlite3-wal",
  ]);
  assert.deepEqual(
    [...s.blocks.keys()],
    ["curl", "OpenAI SDK", "Anthropic SDK", "Claude Code", "OpenCode"],
  );
  assert.equal(await summaryTotal(s), 0, "--traffic none sends nothing");
  let sent = 0;

  // The real OpenAI SDK with the printed base URL and key: a completion and a streamed tool call.
  const openai = new OpenAI({ baseURL: `${s.origin}/v1`, apiKey: s.localKey, maxRetries: 0 });
  const models = await openai.models.list();
  const ids = models.data.map((m) => m.id);
  assert.ok(
    ids.includes("sim-gpt-small/sim-openai") && ids.includes("sim-gpt-small/sim-slow"),
    ids.join(),
  );
  const chat = await openai.chat.completions.create({
    model: "sim-gpt-large",
    messages: [{ role: "user", content: "hello demo" }],
  });
  sent++;
  assert.equal(chat.choices[0].message.content, "echo: hello demo");
  const stream = await openai.chat.completions.create({
    model: "sim-gpt-small",
    stream: true,
    messages: [{ role: "user", content: "please use the tool for Oslo" }],
    tools: [{
      type: "function",
      function: {
        name: "get_weather",
        parameters: { type: "object", properties: { city: { type: "string" } } },
      },
    }],
  });
  sent++;
  let args = "";
  let toolName = "";
  for await (const chunk of stream) {
    const call = chunk.choices[0]?.delta.tool_calls?.[0];
    toolName += call?.function?.name ?? "";
    args += call?.function?.arguments ?? "";
  }
  assert.equal(toolName, "get_weather");
  assert.deepEqual(JSON.parse(args), { city: "please use the tool for Oslo" });

  // The real Anthropic SDK (x-api-key): a message and a stream.
  const anthropic = new Anthropic({ baseURL: s.origin, apiKey: s.localKey, maxRetries: 0 });
  const message = await anthropic.messages.create({
    model: "sim-claude-haiku",
    max_tokens: 64,
    messages: [{ role: "user", content: "hello claude" }],
  });
  sent++;
  assert.deepEqual(message.content, [{ type: "text", text: "echo: hello claude" }]);
  const final = await anthropic.messages.stream({
    model: "sim-claude-sonnet",
    max_tokens: 64,
    messages: [{ role: "user", content: "stream please" }],
  }).finalMessage();
  sent++;
  assert.deepEqual(final.content, [{ type: "text", text: "echo: stream please" }]);

  // Claude Code's settings: a Bearer token and a streamed /v1/messages?beta=true, as it sends them.
  const cc = s.blocks.get("Claude Code")!;
  assert.equal(exported(cc, "ANTHROPIC_BASE_URL"), s.origin);
  const ccModel = exported(cc, "ANTHROPIC_MODEL");
  const ccRes = await fetch(`${exported(cc, "ANTHROPIC_BASE_URL")}/v1/messages?beta=true`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${exported(cc, "ANTHROPIC_AUTH_TOKEN")}`,
      "anthropic-version": "2023-06-01",
      "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14",
      "content-type": "application/json",
      "x-claude-code-session-id": crypto.randomUUID(),
    },
    body: JSON.stringify({
      model: ccModel,
      max_tokens: 32000,
      stream: true,
      thinking: { type: "adaptive" },
      messages: [{ role: "user", content: "hi from claude code" }],
    }),
  });
  sent++;
  const ccText = await ccRes.text();
  assert.equal(ccRes.status, 200, ccText);
  assert.match(ccText, /event: message_stop/);
  assert.match(ccText, /"model":"sim-claude-sonnet"/);
  assert.equal(exported(cc, "ANTHROPIC_DEFAULT_HAIKU_MODEL"), "sim-claude-haiku");

  // OpenCode's provider block: what @ai-sdk/openai-compatible sends (a stream with usage).
  const oc = JSON.parse(s.blocks.get("OpenCode")!);
  const provider = oc.provider.eggpool;
  assert.equal(provider.npm, "@ai-sdk/openai-compatible");
  const [ocProvider, ocModel] = String(oc.model).split("/");
  assert.equal(ocProvider, "eggpool");
  assert.ok(ocModel in provider.models, `${ocModel} is not among the block's models`);
  const ocClient = new OpenAI({
    baseURL: provider.options.baseURL,
    apiKey: provider.options.apiKey,
    maxRetries: 0,
  });
  const ocStream = await ocClient.chat.completions.create({
    model: ocModel,
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: provider.models[ocModel].limit.output,
    messages: [{ role: "user", content: "hi from opencode" }],
  }, { headers: { "x-session-id": "ses_demo_test" } });
  sent++;
  let ocText = "";
  let ocUsage = 0;
  for await (const chunk of ocStream) {
    ocText += chunk.choices[0]?.delta.content ?? "";
    if (chunk.usage) ocUsage = chunk.usage.completion_tokens;
  }
  assert.equal(ocText, "echo: hi from opencode");
  assert.ok(ocUsage > 0);

  // The curl and SDK blocks, run exactly as printed.
  const curl = await new Deno.Command("bash", {
    args: ["-c", s.blocks.get("curl")!],
    stdout: "piped",
    stderr: "piped",
  }).output();
  sent += 2;
  const curlOut = new TextDecoder().decode(curl.stdout);
  assert.equal(curl.code, 0, new TextDecoder().decode(curl.stderr));
  const [curlOpenai, curlAnthropic] = curlOut.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(curlOpenai.choices[0].message.content, "echo: Hello");
  assert.equal(curlAnthropic.content[0].text, "echo: Hello");
  assert.equal(
    await runSnippet(tmp.path, "openai_block", s.blocks.get("OpenAI SDK")!),
    "echo: Hello\n",
  );
  assert.equal(
    await runSnippet(tmp.path, "anthropic_block", s.blocks.get("Anthropic SDK")!),
    "echo: Hello\n",
  );
  sent += 2;

  // Every request is in the stats, once.
  assert.equal(await summaryReaches(s, sent), sent);

  const result = await demo.stop("SIGINT");
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^Demo stopped; temporary files removed\.$/m);
  assert.match(result.stderr, /Shutting down \(SIGINT\)/);
  assert.equal(isAlive(demo.pid), false, "the process is gone");
  assert.equal(await isListening(s.origin), false, "the port is closed");
  assert.deepEqual(await entries(env.TMPDIR), [], "no temporary file is left");
  assert.deepEqual(await entries(env.HOME), [], "the demo writes nothing into HOME");
});

interface ProtocolTraffic {
  protocol: string;
  n: number;
  streamed: number;
  cached: number;
  /** Most completed requests in one conversation. */
  longest: number;
}

/** Completed requests per client protocol, read from the demo's database. */
function trafficByProtocol(dbPath: string): ProtocolTraffic[] {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(dbPath, { readOnly: true });
  } catch {
    return []; // not created yet
  }
  try {
    return db.prepare(
      `SELECT client_protocol AS protocol, COUNT(*) AS n, SUM(streamed) AS streamed,
              SUM(cache_read_tokens) AS cached,
              (SELECT MAX(c) FROM (SELECT COUNT(*) AS c FROM requests i
                 WHERE i.client_protocol = r.client_protocol AND i.status = 'completed'
                 GROUP BY i.session_key_hash)) AS longest
         FROM requests r WHERE status = 'completed' GROUP BY client_protocol ORDER BY 1`,
    ).all() as unknown as ProtocolTraffic[];
  } finally {
    db.close();
  }
}

/** Streamed and whole answers, a conversation of several turns, prompt-cache reads. */
function isFilled(row: ProtocolTraffic): boolean {
  return row.streamed > 0 && row.streamed < row.n && row.longest >= 2 && row.cached > 0;
}

Deno.test("eggpool demo --traffic light --db: the simulated agents fill the stats; SIGTERM keeps the database and removes the rest", async () => {
  await using tmp = await withTmpDir();
  const env = await demoEnv(tmp.path);
  const dbPath = `${tmp.path}/kept.sqlite3`;
  await using demo = await startDemo(
    ["--traffic", "light", "--port", "0", "--db", "kept.sqlite3"],
    {
      cwd: tmp.path,
      env,
    },
  );
  const s = demo.settings;
  assert.equal(s.dbPath, dbPath);
  assert.deepEqual(await entries(s.tempDir), ["config.toml"]);
  // The agents need no help from the test: wait until they have used both protocols,
  // streamed and not, in multi-turn conversations that hit the simulated prompt cache.
  let rows = trafficByProtocol(dbPath);
  for (let i = 0; i < 600 && !(rows.length === 2 && rows.every(isFilled)); i++) {
    await new Promise((r) => setTimeout(r, 200));
    rows = trafficByProtocol(dbPath);
  }
  assert.deepEqual(rows.map((r) => r.protocol), ["anthropic", "openai"]);
  for (const row of rows) assert.ok(isFilled(row), JSON.stringify(row));
  assert.ok((await summaryReaches(s, rows[0].n + rows[1].n)) >= rows[0].n + rows[1].n);
  const accountsPage = await fetch(`${s.origin}/accounts?period=1h`, {
    headers: { authorization: `Bearer ${s.localKey}` },
  });
  const html = await accountsPage.text();
  for (const name of ["openai-main", "openai-flaky", "claude-team", "claude-solo", "slow-1"]) {
    assert.match(html, new RegExp(`data-account="${name}"`));
  }

  const result = await demo.stop("SIGTERM");
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /Demo stopped; the simulated agents sent \d+ requests; the database stays in /,
  );
  assert.equal(isAlive(demo.pid), false);
  assert.equal(await isListening(s.origin), false);
  assert.deepEqual(await entries(env.TMPDIR), []);

  const final = trafficByProtocol(dbPath);
  for (const row of final) assert.ok(isFilled(row), JSON.stringify(row));
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const pending = db.prepare("SELECT COUNT(*) AS n FROM requests WHERE status = 'pending'").get();
    assert.equal((pending as { n: number }).n, 0, "every request was finalized");
  } finally {
    db.close();
  }
});

Deno.test("eggpool demo --print-config prints a config check-config accepts, and leaves nothing", async () => {
  await using tmp = await withTmpDir();
  const env = await demoEnv(tmp.path);
  const printed = await runEggpool(["demo", "--print-config"], { cwd: tmp.path, env });
  assert.equal(printed.code, 0, printed.stderr);
  assert.match(printed.stdout, /^\[providers\.sim-anthropic\]$/m);
  assert.match(printed.stdout, /^name = "openai-flaky"$/m);
  assert.match(printed.stdout, /^host = "127\.0\.0\.1"$/m);
  assert.deepEqual(await entries(env.TMPDIR), []);
  await Deno.writeTextFile(`${tmp.path}/demo.toml`, printed.stdout);
  const check = await runEggpool(["--config", "demo.toml", "check-config"], { cwd: tmp.path, env });
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /Configuration loaded successfully/);
});

Deno.test("eggpool demo: bad flags and a taken port are one line and exit 1, with nothing left", async () => {
  await using tmp = await withTmpDir();
  const env = await demoEnv(tmp.path);
  const traffic = await runEggpool(["demo", "--traffic", "heavy"], { cwd: tmp.path, env });
  assert.equal(traffic.code, 1);
  assert.equal(traffic.stderr, "Error: --traffic must be none, light or busy, not 'heavy'\n");
  const port = await runEggpool(["demo", "--port", "70000"], { cwd: tmp.path, env });
  assert.equal(port.code, 1);
  assert.equal(
    port.stderr,
    "Error: --port must be a number from 0 to 65535 (0: any free port), not '70000'\n",
  );
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const busy = taken.addr.port;
  const clash = await runEggpool(["demo", "--port", String(busy)], { cwd: tmp.path, env });
  assert.equal(clash.code, 1);
  assert.match(
    clash.stderr,
    new RegExp(
      `^Error: cannot listen on 127\\.0\\.0\\.1:${busy}: the address is already in use; pick another --port, or --port 0 for any free one\\n$`,
      "m",
    ),
  );
  assert.deepEqual(await entries(env.TMPDIR), []);
  const help = await runEggpool(["demo", "--help"], { cwd: tmp.path, env });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /default: 11300 if free, else any free\s+port/);
});
