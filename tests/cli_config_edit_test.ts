/**
 * The config-changing commands run as a user runs them: the real CLI in a
 * subprocess, in temp HOME/XDG dirs, without a terminal, against a loopback
 * mock provider.
 */
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { isolatedEnv, runEggpool } from "./_helpers/cli.ts";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const LOCAL_KEY = "ep_cfg_test_local_key_0123456789";

/** A config an operator has commented, with no accounts yet. */
function commentedConfig(dir: string): string {
  return [
    "# Lab EggPool.",
    "",
    "[server]",
    'host = "127.0.0.1"  # loopback only',
    "port = 11399",
    'api_key_env = "SERVER_API_KEY"  # in .env',
    "",
    "[database]",
    `path = "${dir}/usage.sqlite3"`,
    "",
    "[models]",
    "startup_refresh = false  # no network at start",
    "",
  ].join("\n");
}

async function setup(dir: string) {
  const config = `${dir}/cfg/config.toml`;
  await Deno.mkdir(`${dir}/cfg`);
  await Deno.writeTextFile(config, commentedConfig(dir), { mode: 0o640 });
  await Deno.chmod(config, 0o640);
  await Deno.writeTextFile(`${dir}/cfg/.env`, `# keys\nSERVER_API_KEY=${LOCAL_KEY}\n`, {
    mode: 0o600,
  });
  const env = isolatedEnv(dir);
  const run = (args: string[], extra: Record<string, string> = {}) =>
    runEggpool(["--config", config, ...args], { cwd: dir, env: { ...env, ...extra } });
  return { config, envFile: `${dir}/cfg/.env`, run };
}

async function templates(dir: string, url: string): Promise<string> {
  const path = `${dir}/templates.toml`;
  await Deno.writeTextFile(
    path,
    [
      "[providers.mockai]",
      'id = "mockai"',
      `base_url = "${url}"`,
      'protocols = ["openai"]',
      'display_name = "Mock AI"',
      'category = "direct"',
      'status = "verified"',
      'notes = "the test provider"',
      "[providers.mockai.auth]",
      'mode = "bearer"',
      "[providers.mocklocal]",
      'id = "mocklocal"',
      'base_url = "http://127.0.0.1:9/v1"',
      'display_name = "Mock local"',
      'category = "local"',
      'status = "unverified"',
      'notes = "a keyless server"',
      "[providers.mocklocal.auth]",
      'mode = "none"',
      "",
    ].join("\n"),
  );
  return path;
}

type Doc = {
  providers?: Record<
    string,
    { base_url: string; accounts?: { name: string; api_key_env?: string; api_key?: string }[] }
  >;
};

/** The parsed config as plain objects (smol-toml's tables have no prototype). */
function readDoc(text: string): Doc {
  return JSON.parse(JSON.stringify(parse(text)));
}

Deno.test("connect checks the key against the provider first: a rejected key writes nothing, a good one is added with its key in .env", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ keys: ["sk-good-1", "sk-good-2"] });
  const { config, envFile, run } = await setup(tmp.path);
  const tpl = await templates(tmp.path, mock.url);
  const before = await Deno.readTextFile(config);
  const envBefore = await Deno.readTextFile(envFile);

  const bad = await run(["connect", "mockai", "--providers", tpl, "--api-key", "sk-bad"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /the provider rejected this key \(HTTP 401\); nothing was written/);
  assert.equal(await Deno.readTextFile(config), before, "config unchanged");
  assert.equal(await Deno.readTextFile(envFile), envBefore, ".env unchanged");
  assert.equal(mock.requestsFor("sk-bad").length, 1);
  assert.equal(mock.requestsFor("sk-bad")[0].path, "/v1/models");
  assert.ok(!bad.stdout.includes("sk-bad") && !bad.stderr.includes("sk-bad"), "key not echoed");

  const good = await run(["connect", "mockai", "--providers", tpl, "--api-key", "sk-good-1"]);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /key works, 2 models/);
  assert.match(good.stdout, /Added mockai-0001 to mockai\./);
  assert.match(good.stdout, /Server is not running; the change applies when it starts\./);
  const after = await Deno.readTextFile(config);
  assert.ok(after.startsWith(before), "the operator's lines are untouched; the block is appended");
  assert.equal(
    after.slice(before.length),
    [
      "",
      "# Mock AI (direct, verified), added by 'eggpool connect'",
      "[providers.mockai]",
      'id = "mockai"',
      `base_url = "${mock.url}"`,
      'protocols = ["openai"]',
      "routing_priority = 0",
      "",
      "[providers.mockai.auth]",
      'mode = "bearer"',
      "",
      "[[providers.mockai.accounts]]",
      'name = "mockai-0001"',
      'api_key_env = "MOCKAI_KEY_1"',
      "",
    ].join("\n"),
  );
  assert.ok(!after.includes("sk-good-1"), "the key is not in the config");
  assert.equal(await Deno.readTextFile(envFile), `${envBefore}MOCKAI_KEY_1=sk-good-1\n`);
  assert.equal((await Deno.stat(envFile)).mode! & 0o777, 0o600);
  assert.equal((await Deno.stat(config)).mode! & 0o777, 0o640, "the config keeps its mode");
  const check = await run(["check-config"]);
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /mockai-0001 = env:MOCKAI_KEY_1 \(set\)/);

  const dup = await run(["connect", "mockai", "--providers", tpl, "--api-key", "sk-good-1"]);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /this key is already configured as mockai\/mockai-0001/);

  // Scriptable forms: the key from an env var the config then names; a name; inline.
  const byEnv = await run(
    ["connect", "mockai", "--providers", tpl, "--api-key-env", "WORK_KEY", "--name", "work"],
    { WORK_KEY: "sk-good-2" },
  );
  assert.equal(byEnv.code, 0, byEnv.stderr);
  const unverified = await run([
    "connect",
    "mockai",
    "--providers",
    tpl,
    "--api-key",
    "sk-unchecked",
    "--inline",
    "--no-verify",
  ]);
  assert.equal(unverified.code, 0, unverified.stderr);
  assert.equal(mock.requestsFor("sk-unchecked").length, 0, "--no-verify calls nothing");
  const doc = readDoc(await Deno.readTextFile(config));
  assert.deepEqual(doc.providers?.mockai.accounts, [
    { name: "mockai-0001", api_key_env: "MOCKAI_KEY_1" },
    { name: "work", api_key_env: "WORK_KEY" },
    { name: "mockai-0003", api_key: "sk-unchecked" },
  ]);
  assert.match(await Deno.readTextFile(envFile), /^WORK_KEY=sk-good-2$/m);

  const list = await run(["connect", "list", "--providers", tpl]);
  assert.equal(list.code, 0);
  assert.match(
    list.stdout,
    /mockai: Mock AI \(http:\/\/127\.0\.0\.1:\d+\/v1\) \[✓\] \(priority 0, configured\) — the test provider/,
  );
  assert.match(list.stdout, / {2}\* groq: Groq \(https:\/\/api\.groq\.com\/openai\/v1\) \[✓\]/);
  assert.match(list.stdout, /\d+ verified, \d+ experimental, \d+ unverified/);
});

Deno.test("connect without a terminal names the flags it needs instead of waiting", async () => {
  await using tmp = await withTmpDir();
  const { config, run } = await setup(tmp.path);
  const before = await Deno.readTextFile(config);
  const noKey = await run(["connect", "groq"]);
  assert.equal(noKey.code, 1);
  assert.equal(
    noKey.stderr,
    "Error: an API key is needed and there is no terminal to ask on; " +
      "pass --api-key KEY or --api-key-env VAR\n",
  );
  const noTemplate = await run(["connect"]);
  assert.equal(noTemplate.code, 1);
  assert.match(noTemplate.stderr, /a provider template is needed .*\(eggpool connect TEMPLATE/);
  const badName = await run(["connect", "groq", "--api-key-env", "MY KEY"]);
  assert.equal(badName.code, 1);
  assert.match(badName.stderr, /--api-key-env "MY KEY" is not a variable name/);
  const unset = await run(["connect", "groq", "--api-key-env", "NOT_SET_ANYWHERE"]);
  assert.equal(unset.code, 1);
  assert.match(unset.stderr, /the environment variable NOT_SET_ANYWHERE is not set/);
  const unknown = await run(["connect", "nosuch", "--api-key", "x"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no provider template "nosuch"/);
  assert.equal(await Deno.readTextFile(config), before);
});

Deno.test("connect to a keyless local server takes --base-url and checks that it answers", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["llama-a", "llama-b", "llama-c"] });
  const { config, run } = await setup(tmp.path);
  const tpl = await templates(tmp.path, mock.url);
  const r = await run(["connect", "mocklocal", "--providers", tpl, "--base-url", mock.url]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /it answers, 3 models/);
  const doc = readDoc(await Deno.readTextFile(config));
  assert.equal(doc.providers?.mocklocal.base_url, mock.url);
  assert.deepEqual(doc.providers?.mocklocal.accounts, [{ name: "mocklocal-0001" }]);
  assert.equal(mock.requests[0].key, undefined, "no key was sent");
});

Deno.test("logout removes one account, then the provider with its last one, and the key from .env", async () => {
  await using tmp = await withTmpDir();
  const { config, envFile, run } = await setup(tmp.path);
  const base = await Deno.readTextFile(config);
  const block = [
    "",
    "# Our two Groq keys.",
    "[providers.groq]",
    'id = "groq"',
    'base_url = "https://api.groq.com/openai/v1"',
    "",
    "[[providers.groq.accounts]]",
    'name = "personal"',
    'api_key_env = "GROQ_KEY_1"',
    "",
    "[[providers.groq.accounts]]",
    'name = "work"',
    'api_key = "gsk-inline-work-key"',
    "",
  ].join("\n");
  await Deno.writeTextFile(config, `${base}${block}`);
  await Deno.writeTextFile(envFile, `SERVER_API_KEY=${LOCAL_KEY}\nGROQ_KEY_1=gsk-env-key\n`);

  const ambiguous = await run(["logout", "groq"]);
  assert.equal(ambiguous.code, 1);
  assert.match(ambiguous.stderr, /matches: groq\/personal, groq\/work/);
  const untargeted = await run(["logout"]);
  assert.equal(untargeted.code, 1);
  assert.match(
    untargeted.stderr,
    /pass an account name as TARGET \(configured: groq\/personal, groq\/work\)/,
  );
  const none = await run(["logout", "nobody"]);
  assert.equal(none.code, 0);
  assert.equal(none.stdout, "No configured provider or API key found for 'nobody'.\n");

  const byEnv = await run(["logout", "GROQ_KEY_1"]);
  assert.equal(byEnv.code, 0, byEnv.stderr);
  assert.match(byEnv.stdout, new RegExp(`Removed groq/personal from ${config}\\.`));
  assert.equal(await Deno.readTextFile(envFile), `SERVER_API_KEY=${LOCAL_KEY}\n`);
  assert.equal(
    await Deno.readTextFile(config),
    `${base}${
      block.replace(
        '[[providers.groq.accounts]]\nname = "personal"\napi_key_env = "GROQ_KEY_1"\n\n',
        "",
      )
    }`,
  );

  // The key itself matches, and the last account takes its provider (and comment) along.
  const byKey = await run(["logout", "gsk-inline-work-key"]);
  assert.equal(byKey.code, 0, byKey.stderr);
  assert.ok(!byKey.stdout.includes("gsk-inline"), "the key is not echoed");
  assert.equal(await Deno.readTextFile(config), base);
});

Deno.test("set rewrites only the port or host line; a bad value or an invalid result changes nothing", async () => {
  await using tmp = await withTmpDir();
  const { config, envFile, run } = await setup(tmp.path);
  const before = await Deno.readTextFile(config);
  const port = await run(["set", "port", "8088"]);
  assert.equal(port.code, 0, port.stderr);
  assert.match(port.stdout, new RegExp(`Set port = 8088 in ${config}\\.`));
  assert.equal(await Deno.readTextFile(config), before.replace("port = 11399", "port = 8088"));

  for (const bad of ["0", "70000", "80a"]) {
    const r = await run(["set", "port", bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Invalid port/);
  }
  const other = await run(["set", "database", "x"]);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /only port and host/);

  // Without a local key, a LAN bind is refused by validation and nothing is written.
  await Deno.writeTextFile(envFile, "");
  const mid = await Deno.readTextFile(config);
  const lan = await run(["set", "host", "0.0.0.0"]);
  assert.equal(lan.code, 1);
  assert.match(lan.stderr, /nothing was written/);
  assert.match(lan.stderr, /a server API key is required when binding to the non-loopback host/);
  assert.equal(await Deno.readTextFile(config), mid);
});

Deno.test("getkey prints the key with no newline; dashboard public toggles and writes the key", async () => {
  await using tmp = await withTmpDir();
  const { config, envFile, run } = await setup(tmp.path);
  const key = await run(["getkey"]);
  assert.equal(key.code, 0);
  assert.equal(key.stdout, LOCAL_KEY);

  const before = await Deno.readTextFile(config);
  const on = await run(["dashboard", "public"]);
  assert.equal(on.code, 0, on.stderr);
  assert.match(on.stdout, /^Dashboard is now public \(no API key required\)\.$/m);
  assert.equal(await Deno.readTextFile(config), `${before}\n[dashboard]\npublic = true\n`);
  const off = await run(["dashboard", "public"]);
  assert.match(off.stdout, /^Dashboard now requires API key authentication\.$/m);
  const offAgain = await run(["dashboard", "public", "--off"]);
  assert.equal(offAgain.code, 0);
  assert.equal(await Deno.readTextFile(config), `${before}\n[dashboard]\npublic = false\n`);

  await Deno.writeTextFile(envFile, "");
  const none = await run(["getkey"]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /No API key configured\. Run 'eggpool newkey'/);
});

Deno.test("edit validates the result: a broken edit is restored (no terminal), a good one is kept", async () => {
  await using tmp = await withTmpDir();
  const { config, run } = await setup(tmp.path);
  const before = await Deno.readTextFile(config);
  const script = async (name: string, body: string) => {
    const path = `${tmp.path}/${name}`;
    await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
    await Deno.chmod(path, 0o755);
    return path;
  };
  const broken = await script("broken.sh", `printf 'port = "no closing quote\\n' >> "$1"`);
  const r = await run(["edit"], { EDITOR: broken });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /The edited config has 1 problem\(s\):\n {2}- line 13: unterminated string at line 13/,
  );
  assert.match(r.stderr, /restored the previous config at .*; nothing changed/);
  assert.equal(await Deno.readTextFile(config), before, "restored byte for byte");
  assert.equal((await Deno.stat(config)).mode! & 0o777, 0o640, "and with its mode");

  const good = await script("good.sh", `sed -i 's/^port = 11399$/port = 11400/' "$1"`);
  const ok = await run(["edit"], { EDITOR: good });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /Config is valid/);
  assert.equal(await Deno.readTextFile(config), before.replace("port = 11399", "port = 11400"));

  const same = await run(["edit"], { EDITOR: "true" });
  assert.equal(same.code, 0);
  assert.equal(same.stdout, "No changes.\n");
  const none = await run(["edit"], { EDITOR: "", PATH: "/nonexistent" });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no editor found: set \$EDITOR/);
});

Deno.test("connect checks the key through the account's proxy, and adds an account to a provider the config already has", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ keys: ["sk-via-proxy", "sk-second"] });
  // A forward proxy on loopback that records what it relays.
  const relayed: string[] = [];
  await using proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    relayed.push(req.url);
    const r = await fetch(req.url, { headers: req.headers });
    return new Response(await r.arrayBuffer(), { status: r.status, headers: r.headers });
  });
  const { config, run } = await setup(tmp.path);
  const tpl = await templates(tmp.path, mock.url);
  const proxyUrl = `http://127.0.0.1:${proxy.addr.port}`;
  const r = await run([
    "connect",
    "mockai",
    "--providers",
    tpl,
    "--api-key",
    "sk-via-proxy",
    "--proxy",
    proxyUrl,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(relayed, [`${mock.url}/models`], "the check went through the proxy");
  assert.equal(mock.requestsFor("sk-via-proxy").length, 1);
  const bad = await run([
    "connect",
    "mockai",
    "--providers",
    tpl,
    "--api-key",
    "x1",
    "--proxy",
    "nope",
  ]);
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    /--proxy "nope" is neither a \[proxies\.<name>\] of the config nor a proxy URL/,
  );

  // Without the template file the configured provider still takes accounts.
  const more = await run(["connect", "mockai", "--api-key", "sk-second"]);
  assert.equal(more.code, 0, more.stderr);
  assert.deepEqual(readDoc(await Deno.readTextFile(config)).providers?.mockai.accounts, [
    { name: "mockai-0001", api_key_env: "MOCKAI_KEY_1", proxy_url: proxyUrl },
    { name: "mockai-0002", api_key_env: "MOCKAI_KEY_2" },
  ]);
});
