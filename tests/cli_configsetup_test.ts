/**
 * `configsetup` writes client configs that the clients' own libraries can use:
 * the files are read back the way each client reads them and a request made
 * with their settings reaches EggPool and its provider.
 */
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
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
  // The name equals the id, so none is written; limits only where both are known.
  assert.deepEqual(eggpool.models["gpt-mock/mockoai"], {
    limit: { context: 128000, output: 16000 },
  });
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

Deno.test("configsetup codex says Codex needs /v1/responses and writes nothing", async () => {
  await using tmp = await withTmpDir();
  const config = await writeConfig(tmp.path, freePort(), "http://127.0.0.1:9/v1");
  const env = opsEnv(tmp.path);
  const r = await runEggpool(["--config", config, "configsetup", "codex"], { cwd: tmp.path, env });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /Responses API \(POST \/v1\/responses\), which EggPool does not serve yet/,
  );
  const written = [...Deno.readDirSync(tmp.path)].map((e) => e.name).sort();
  assert.deepEqual(written, [".env", "config.toml"]);
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
