/**
 * `configsetup` writes client configs that the clients' own libraries can use:
 * the files are read back the way each client reads them and a request made
 * with their settings reaches EggPool and its provider.
 */
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { parse as parseToml } from "smol-toml";
import { runEggpool } from "./_helpers/cli.ts";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { freePort, opsEnv, serverScope } from "./_helpers/ops.ts";

const KEY = "ep_setup_test_key_0123456789";

async function writeConfig(dir: string, port: number, mockUrl: string): Promise<string> {
  const config = `${dir}/config.toml`;
  await Deno.writeTextFile(
    config,
    [
      "[server]",
      'host = "127.0.0.1"',
      `port = ${port}`,
      'api_key_env = "SERVER_API_KEY"',
      "[database]",
      `path = "${dir}/usage.sqlite3"`,
      "[providers.mockoai]",
      'id = "mockoai"',
      `base_url = "${mockUrl}"`,
      'protocols = ["openai"]',
      "[[providers.mockoai.static_models]]",
      'id = "gpt-mock"',
      "max_context_tokens = 128000",
      "max_output_tokens = 16000",
      '[providers.mockoai.model_capabilities."gpt-mock".thinking]',
      'status = "supported"',
      'supported_efforts = ["low", "high"]',
      "[[providers.mockoai.accounts]]",
      'name = "o1"',
      'api_key = "sk-mock-openai"',
      "[providers.mockant]",
      'id = "mockant"',
      `base_url = "${mockUrl}"`,
      'protocols = ["anthropic"]',
      "[providers.mockant.auth]",
      'mode = "api_key"',
      'header = "x-api-key"',
      "[[providers.mockant.accounts]]",
      'name = "a1"',
      'api_key = "sk-mock-anthropic"',
      "",
    ].join("\n"),
  );
  await Deno.writeTextFile(`${dir}/.env`, `SERVER_API_KEY=${KEY}\n`, { mode: 0o600 });
  return config;
}

type OpencodeFile = {
  $schema: string;
  theme?: string;
  provider: Record<string, {
    npm: string;
    options: { baseURL: string; apiKey: string };
    models: Record<string, { name?: string; limit?: { context: number; output: number } }>;
  }>;
};

Deno.test("configsetup opencode merges EggPool into opencode.json (backed up first) and its settings reach EggPool", async () => {
  await using tmp = await withTmpDir();
  await using _servers = serverScope(tmp.path);
  await using mock = await startMockUpstream({
    models: ["gpt-mock", "claude-sonnet-mock", "claude-haiku-mock"],
  });
  const port = freePort();
  const config = await writeConfig(tmp.path, port, mock.url);
  const env = opsEnv(tmp.path);
  const run = (...args: string[]) =>
    runEggpool(["--config", config, ...args], { cwd: tmp.path, env });
  const file = `${env.XDG_CONFIG_HOME}/opencode/opencode.json`;
  await Deno.mkdir(`${env.XDG_CONFIG_HOME}/opencode`, { recursive: true });
  const mine = {
    theme: "tokyonight",
    provider: { other: { npm: "x", options: { baseURL: "http://o/v1", apiKey: "k" }, models: {} } },
  };
  await Deno.writeTextFile(file, JSON.stringify(mine));

  // Stored catalog (server down): models refresh first, then --print changes nothing.
  assert.equal((await run("models", "refresh")).code, 0);
  const printed = await run("configsetup", "opencode", "--print");
  assert.equal(printed.code, 0, printed.stderr);
  assert.match(printed.stderr, /from the stored catalog \(the server is not running\)/);
  assert.equal(await Deno.readTextFile(file), JSON.stringify(mine), "--print wrote nothing");
  const preview = JSON.parse(printed.stdout) as OpencodeFile;
  assert.equal(preview.provider.eggpool.options.apiKey, KEY);
  const thinks = {
    limit: { context: 128000, output: 16000 },
    reasoning: true,
    variants: { low: { reasoningEffort: "low" }, high: { reasoningEffort: "high" } },
  };
  assert.deepEqual(preview.provider.eggpool.models["gpt-mock/mockoai"], thinks);

  const start = await run("serve", "--daemon", "--as-root");
  assert.equal(start.code, 0, start.stderr);
  const wrote = await run("configsetup", "opencode");
  assert.equal(wrote.code, 0, wrote.stderr);
  assert.match(wrote.stderr, /from the running server/);
  const backup = /Backed up .* to (\S+)\n/.exec(wrote.stdout)?.[1];
  assert.ok(backup !== undefined, wrote.stdout);
  assert.equal(await Deno.readTextFile(backup), JSON.stringify(mine), "the old file is kept");
  assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);

  const doc = JSON.parse(await Deno.readTextFile(file)) as OpencodeFile;
  assert.equal(doc.theme, "tokyonight", "other settings stay");
  assert.equal(doc.provider.other.options.baseURL, "http://o/v1", "other providers stay");
  assert.equal(doc.$schema, "https://opencode.ai/config.json");
  const eggpool = doc.provider.eggpool;
  assert.equal(eggpool.npm, "@ai-sdk/openai-compatible");
  assert.equal(eggpool.options.baseURL, `http://127.0.0.1:${port}/v1`);
  assert.equal(eggpool.options.apiKey, KEY);
  assert.deepEqual(Object.keys(eggpool.models), [
    "claude-haiku-mock/mockant",
    "claude-haiku-mock/mockoai",
    "claude-sonnet-mock/mockant",
    "claude-sonnet-mock/mockoai",
    "gpt-mock/mockant",
    "gpt-mock/mockoai",
  ]);
  // The name equals the id, so none is written; limits only where both are known;
  // reasoning and its efforts where [model_capabilities] says the model thinks.
  assert.deepEqual(eggpool.models["gpt-mock/mockoai"], thinks);
  assert.deepEqual(eggpool.models["claude-sonnet-mock/mockant"], {});

  // What OpenCode does with it: an OpenAI-compatible call with these settings.
  const client = new OpenAI({
    baseURL: eggpool.options.baseURL,
    apiKey: eggpool.options.apiKey,
    maxRetries: 0,
  });
  const reply = await client.chat.completions.create({
    model: "gpt-mock/mockoai",
    messages: [{ role: "user", content: "hello from opencode's settings" }],
  });
  assert.match(reply.choices[0].message.content ?? "", /hello from opencode's settings/);
  assert.equal(
    mock.requestsFor("sk-mock-openai").filter((r) => r.path.endsWith("/chat/completions")).length,
    1,
  );

  // Claude Code: the env block, read as Claude Code reads it.
  const claude = await run("configsetup", "claude-code");
  assert.equal(claude.code, 0, claude.stderr);
  const settings = JSON.parse(
    await Deno.readTextFile(`${env.HOME}/.claude/settings.json`),
  ) as { env: Record<string, string> };
  assert.deepEqual(settings.env, {
    ANTHROPIC_BASE_URL: `http://127.0.0.1:${port}`,
    ANTHROPIC_AUTH_TOKEN: KEY,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    ANTHROPIC_MODEL: "claude-sonnet-mock/mockant",
    ANTHROPIC_SMALL_FAST_MODEL: "claude-haiku-mock/mockant",
    ANTHROPIC_DEFAULT_HAIKU_MODEL: "claude-haiku-mock/mockant",
    ANTHROPIC_DEFAULT_SONNET_MODEL: "claude-sonnet-mock/mockant",
  });
  const anthropic = new Anthropic({
    baseURL: settings.env.ANTHROPIC_BASE_URL,
    authToken: settings.env.ANTHROPIC_AUTH_TOKEN,
    apiKey: null,
    maxRetries: 0,
  });
  const message = await anthropic.messages.create({
    model: settings.env.ANTHROPIC_MODEL,
    max_tokens: 64,
    messages: [{ role: "user", content: "hello from claude code's settings" }],
  });
  assert.equal(message.type, "message");
  assert.equal(
    mock.requestsFor("sk-mock-anthropic").filter((r) => r.path.endsWith("/messages")).length,
    1,
  );

  assert.equal((await run("stop")).code, 0);
});

Deno.test("configsetup codex adds EggPool as Codex's model provider in place, and Codex's settings reach EggPool over /v1/responses", async () => {
  await using tmp = await withTmpDir();
  await using _servers = serverScope(tmp.path);
  await using mock = await startMockUpstream({ models: ["gpt-mock", "claude-sonnet-mock"] });
  const port = freePort();
  const config = await writeConfig(tmp.path, port, mock.url);
  const env = { ...opsEnv(tmp.path), CODEX_HOME: `${tmp.path}/codex` };
  const run = (...args: string[]) =>
    runEggpool(["--config", config, ...args], { cwd: tmp.path, env });
  const file = `${tmp.path}/codex/config.toml`;
  await Deno.mkdir(`${tmp.path}/codex`);
  const mine = [
    "# my Codex settings",
    'approval_policy = "never"',
    "",
    "[profiles.fast]",
    'model = "o4-mini"  # for quick jobs',
    "",
  ].join("\n");
  await Deno.writeTextFile(file, mine);

  const start = await run("serve", "--daemon", "--as-root");
  assert.equal(start.code, 0, start.stderr);
  const printed = await run("configsetup", "codex", "--print");
  assert.equal(printed.code, 0, printed.stderr);
  assert.equal(await Deno.readTextFile(file), mine, "--print wrote nothing");

  const wrote = await run("configsetup", "codex");
  assert.equal(wrote.code, 0, wrote.stderr);
  assert.match(wrote.stdout, /export EGGPOOL_KEY="\$\(eggpool getkey\)"/);
  const backup = /Backed up .* to (\S+)\n/.exec(wrote.stdout)?.[1];
  assert.ok(backup !== undefined, wrote.stdout);
  assert.equal(await Deno.readTextFile(backup), mine, "the old file is kept");
  const text = await Deno.readTextFile(file);
  assert.equal(text, printed.stdout, "--print showed exactly what was written");
  for (const line of mine.split("\n")) assert.ok(text.includes(line), `kept: ${line}`);

  // Read as Codex reads it: its top-level model and provider, the provider's table.
  const doc = parseToml(text) as {
    model: string;
    model_provider: string;
    approval_policy: string;
    profiles: { fast: { model: string } };
    model_providers: { eggpool: Record<string, string> };
  };
  assert.equal(doc.model_provider, "eggpool");
  // By default the first model (by id) of an OpenAI-protocol provider: one translation fewer.
  assert.equal(doc.model, "claude-sonnet-mock/mockoai");
  assert.equal(doc.approval_policy, "never");
  assert.equal(doc.profiles.fast.model, "o4-mini");
  assert.deepEqual({ ...doc.model_providers.eggpool }, {
    name: "EggPool",
    base_url: `http://127.0.0.1:${port}/v1`,
    env_key: "EGGPOOL_KEY",
    wire_api: "responses",
  });
  assert.ok(!text.includes(KEY), "the key stays out of Codex's file");

  // What Codex does with it: a Responses API call, the key from the named variable.
  const getkey = await run("getkey");
  const client = new OpenAI({
    baseURL: doc.model_providers.eggpool.base_url,
    apiKey: getkey.stdout,
    maxRetries: 0,
  });
  const reply = await client.responses.create({
    model: doc.model,
    input: "hello from codex's settings",
    store: false,
  });
  assert.match(reply.output_text, /hello from codex's settings/);
  assert.equal(
    mock.requestsFor("sk-mock-openai").filter((r) => r.path.endsWith("/chat/completions")).length,
    1,
  );
  assert.equal((await run("stop")).code, 0);
});

Deno.test("configsetup claude-code with only OpenAI accounts names their models while the transcoder is on", async () => {
  await using tmp = await withTmpDir();
  const config = `${tmp.path}/config.toml`;
  const base = [
    "[server]",
    'host = "127.0.0.1"',
    `port = ${freePort()}`,
    "[database]",
    `path = "${tmp.path}/usage.sqlite3"`,
    "[models]",
    "startup_refresh = false",
    "[providers.oai]",
    'id = "oai"',
    'base_url = "http://127.0.0.1:9/v1"',
    "[[providers.oai.static_models]]",
    'id = "gpt-static"',
    "[[providers.oai.accounts]]",
    'name = "o1"',
    'api_key = "sk-static-openai"',
    "",
  ].join("\n");
  await Deno.writeTextFile(config, base);
  await Deno.writeTextFile(`${tmp.path}/.env`, `SERVER_API_KEY=${KEY}\n`);
  const env = opsEnv(tmp.path);
  const print = () =>
    runEggpool(["--config", config, "configsetup", "claude-code", "--print"], {
      cwd: tmp.path,
      env,
    });
  const on = await print();
  assert.equal(on.code, 0, on.stderr);
  const settings = JSON.parse(on.stdout) as { env: Record<string, string> };
  assert.equal(settings.env.ANTHROPIC_MODEL, "gpt-static/oai");
  assert.equal(settings.env.ANTHROPIC_SMALL_FAST_MODEL, "gpt-static/oai");

  await Deno.writeTextFile(config, `${base}[transcoder]\nenabled = false\n`);
  const off = await print();
  assert.equal(off.code, 0, off.stderr);
  assert.match(off.stderr, /serves no model Claude Code can use yet/);
  assert.equal(
    (JSON.parse(off.stdout) as { env: Record<string, string> }).env.ANTHROPIC_MODEL,
    undefined,
  );
});
