import assert from "node:assert/strict";
import { ConfigError } from "../core/errors.ts";
import {
  describeKeySource,
  type EnvLookup,
  isPlaceholderKey,
  loadConfig,
  resolveAccountKey,
  resolveAccountProxyUrl,
  resolveProviderHeaders,
  resolveServerApiKey,
  validateCredentials,
} from "./load.ts";

const KEY_A = "sk-live-4f9a0c1d2e3b4a5968778695a4b3c2d1e0f9";
const KEY_B = "sk-live-7d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c";

interface TmpConfig extends AsyncDisposable {
  dir: string;
  path: string;
}

async function tmpConfig(toml: string | Uint8Array, dotenv?: string): Promise<TmpConfig> {
  const dir = await Deno.makeTempDir({ prefix: "eggpool-config-" });
  const path = `${dir}/config.toml`;
  if (typeof toml === "string") await Deno.writeTextFile(path, toml);
  else await Deno.writeFile(path, toml);
  if (dotenv !== undefined) await Deno.writeTextFile(`${dir}/.env`, dotenv);
  return {
    dir,
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function envOf(vars: Record<string, string>): EnvLookup {
  return (name) => vars[name];
}

async function loadError(path: string, env: EnvLookup = envOf({})): Promise<ConfigError> {
  try {
    await loadConfig(path, { env });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  assert.fail("expected a ConfigError");
}

const TWO_PROVIDERS = `
[providers.groq]
id = "groq"
base_url = "https://api.groq.com/openai/v1"

[[providers.groq.accounts]]
name = "groq-1"
api_key_env = "GROQ_KEY_1"

[providers.minimax]
id = "minimax"
base_url = "https://api.minimax.io/anthropic"
protocols = ["anthropic"]
anthropic_path = "/v1/messages"
auth = { mode = "api_key", header = "x-api-key" }
headers = [{ name = "anthropic-version", value = "2023-06-01" }]

[[providers.minimax.accounts]]
name = "mm-1"
api_key = "\${MM_KEY}"
`;

Deno.test("loadConfig() fills every default for an empty file", async () => {
  await using tmp = await tmpConfig("");
  const loaded = await loadConfig(tmp.path, { env: envOf({ XDG_DATA_HOME: "/data" }) });
  const c = loaded.config;
  assert.equal(c.server.host, "127.0.0.1");
  assert.equal(c.server.port, 11300);
  assert.equal(c.server.api_key_env, "SERVER_API_KEY");
  assert.equal(c.database.path, "/data/eggpool/usage.sqlite3");
  assert.equal(c.upstream.stream_idle_timeout_s, 120);
  assert.equal(c.routing.affinity, "on");
  assert.equal(c.routing.affinity_idle_s, 3600);
  assert.equal(c.routing.trace.mode, "off");
  assert.equal(c.pricing.catalogs.openrouter.enabled, false);
  assert.equal(c.dashboard.public, false);
  assert.equal(c.metrics.dispatch_spans.window_size, 200);
  assert.deepEqual(c.security.redact_headers, ["authorization", "x-api-key"]);
  assert.deepEqual(c.providers, {});
  assert.equal(loaded.digest, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.ok(Object.isFrozen(c.server));
});

Deno.test("loadConfig() keeps a relative or in-memory database path as written", async () => {
  await using tmp = await tmpConfig('[database]\npath = "usage.sqlite3"\n');
  const loaded = await loadConfig(tmp.path, { env: envOf({}) });
  assert.equal(loaded.config.database.path, "usage.sqlite3");
  await Deno.writeTextFile(tmp.path, '[database]\npath = ":memory:"\n');
  assert.equal((await loadConfig(tmp.path, { env: envOf({}) })).config.database.path, ":memory:");
});

Deno.test("loadConfig() resolves providers with defaults and synthesized models_endpoint", async () => {
  await using tmp = await tmpConfig(TWO_PROVIDERS);
  const loaded = await loadConfig(tmp.path, { env: envOf({ MM_KEY: KEY_B }) });
  const groq = loaded.config.providers.groq;
  assert.deepEqual(groq.protocols, ["openai"]);
  assert.equal(groq.auth.mode, "bearer");
  assert.equal(groq.auth.header, "Authorization");
  assert.deepEqual(groq.models_endpoint, {
    method: "GET",
    path: "/models",
    query: {},
    required: true,
  });
  assert.equal(groq.accounts[0].weight, 1);
  assert.equal(loaded.config.providers.minimax.auth.header, "x-api-key");
});

Deno.test("loadConfig() reports every problem at once with key paths and lines", async () => {
  await using tmp = await tmpConfig(`[server]
port = 0

[routing]
local_quota_mode = "strict"

[providers.groq]
id = "groq"
base_url = "https://api.groq.com/openai/v1?x=1"

[[providers.groq.accounts]]
name = "a"
api_key_env = "K1"

[[providers.groq.accounts]]
name = "a"
api_key_env = 5
`);
  const error = await loadError(tmp.path);
  const byPath = new Map(error.issues.map((i) => [i.path, i]));
  assert.equal(byPath.get("server.port")?.line, 2);
  assert.match(byPath.get("server.port")!.message, /between 1 and 65535/);
  assert.equal(byPath.get("routing.local_quota_mode")?.line, 5);
  assert.match(byPath.get("routing.local_quota_mode")!.message, /"score_only", "hard_cap"/);
  assert.equal(byPath.get("providers.groq.base_url")?.line, 9);
  assert.match(byPath.get("providers.groq.base_url")!.message, /query/);
  assert.equal(byPath.get("providers.groq.accounts[1].name")?.line, 16);
  assert.match(byPath.get("providers.groq.accounts[1].name")!.message, /already used/);
  assert.equal(byPath.get("providers.groq.accounts[1].api_key_env")?.line, 17);
  assert.match(byPath.get("providers.groq.accounts[1].api_key_env")!.message, /found an integer/);
  assert.equal(error.issues.length, 5);
});

Deno.test("loadConfig() reports a TOML syntax error with its line without quoting the file", async () => {
  await using tmp = await tmpConfig(`[server]\nport = 1\napi_key = "${KEY_A}\n`);
  const error = await loadError(tmp.path);
  assert.equal(error.issues.length, 1);
  assert.equal(error.issues[0].line, 3);
  assert.equal(
    error.issues[0].message,
    "unterminated string at line 3: add the closing quote before the end of the line",
  );
  assert.ok(!error.message.includes(KEY_A));
});

Deno.test("loadConfig() rejects a missing file and a file that is not UTF-8", async () => {
  await using tmp = await tmpConfig(new Uint8Array([0x61, 0x20, 0x3d, 0x20, 0x22, 0xff, 0x22]));
  assert.match((await loadError(tmp.path)).issues[0].message, /not valid UTF-8/);
  assert.match((await loadError(`${tmp.dir}/nope.toml`)).issues[0].message, /does not exist/);
});

Deno.test("loadConfig() rejects unknown keys with their path, line and the likely key", async () => {
  await using tmp = await tmpConfig(`[server]\nport = 8080\nprot = 1\n\n[dashbord]\nx = 1\n`);
  const error = await loadError(tmp.path);
  assert.deepEqual(error.issues.map((i) => [i.path, i.line, i.message]), [
    ["server.prot", 3, "unknown key; did you mean port?"],
    ["dashbord", 5, "unknown table [dashbord]; did you mean [dashboard]?"],
  ]);
});

Deno.test("loadConfig() reads .env beside the config and lets the real environment win", async () => {
  const dotenv = `# keys\nexport GROQ_KEY_1='${KEY_A}'\nMM_KEY="${KEY_A}"\nbroken line\n`;
  await using tmp = await tmpConfig(TWO_PROVIDERS, dotenv);
  const loaded = await loadConfig(tmp.path, { env: envOf({ MM_KEY: KEY_B }) });
  assert.equal(loaded.envFile, `${tmp.dir}/.env`);
  assert.equal(resolveAccountKey(loaded, "groq", "groq-1"), KEY_A);
  assert.equal(resolveAccountKey(loaded, "minimax", "mm-1"), KEY_B);
  assert.ok(loaded.warnings.some((w) => /ignored line\(s\) 4/.test(w.message)));
  assert.deepEqual(validateCredentials(loaded), []);
});

Deno.test("loadConfig() names the variable of a ${NAME} value that is not set", async () => {
  await using tmp = await tmpConfig(TWO_PROVIDERS);
  const error = await loadError(tmp.path);
  assert.equal(error.issues.length, 1);
  assert.equal(error.issues[0].path, "providers.minimax.accounts[0].api_key");
  assert.match(error.issues[0].message, /'MM_KEY'/);
});

Deno.test("loadConfig() turns legacy top-level accounts into provider opencode-go", async () => {
  await using tmp = await tmpConfig(`[[accounts]]\nname = "old"\napi_key_env = "OLD_KEY"\n`);
  const loaded = await loadConfig(tmp.path, { env: envOf({}) });
  const p = loaded.config.providers["opencode-go"];
  assert.equal(p.base_url, "https://opencode.ai/zen/go/v1");
  assert.deepEqual(p.protocols, ["openai", "anthropic"]);
  assert.equal(p.accounts[0].name, "old");
  assert.ok(p.model_capabilities["mimo-v2.5"]?.thinking);
  const issues = validateCredentials(loaded);
  assert.equal(issues[0].path, "accounts[0].api_key_env");
  assert.equal(issues[0].line, 3);
});

Deno.test("validateCredentials() refuses bad keys without ever printing them", async () => {
  const toml = `[server]\nhost = "0.0.0.0"\n${
    TWO_PROVIDERS.replace('api_key = "${MM_KEY}"', 'api_key = "your-api-key-here"')
  }`;
  await using tmp = await tmpConfig(toml);
  const secret = `Bearer ${KEY_A}`;
  const loaded = await loadConfig(tmp.path, { env: envOf({ GROQ_KEY_1: secret }) });
  const issues = validateCredentials(loaded);
  const text = JSON.stringify(issues);
  assert.ok(!text.includes(KEY_A));
  const paths = issues.map((i) => i.path);
  assert.deepEqual(paths, [
    "server.api_key",
    "providers.groq.accounts[0].api_key_env",
    "providers.minimax.accounts[0].api_key",
  ]);
  assert.match(issues[0].message, /non-loopback/);
  assert.match(issues[1].message, /raw token/);
  assert.match(issues[2].message, /placeholder/);
});

Deno.test("validateCredentials() applies the server key format rules", async () => {
  await using tmp = await tmpConfig(`[server]\napi_key_env = "LOCAL_KEY"\n`);
  const check = async (value: string) => {
    const loaded = await loadConfig(tmp.path, { env: envOf({ LOCAL_KEY: value }) });
    return validateCredentials(loaded).map((i) => i.message).join("\n");
  };
  assert.equal(await check("ep_" + "a1".repeat(32)), "");
  assert.match(await check("short"), /8 to 512/);
  assert.match(await check("has space inside"), /8 to 512/);
  assert.match(await check("changeme"), /placeholder/);
  assert.match(await check("abc\ndefghij"), /line break/);
  assert.match(await check("   "), /whitespace/);
  const loaded = await loadConfig(tmp.path, { env: envOf({ LOCAL_KEY: "ep_12345678" }) });
  assert.equal(resolveServerApiKey(loaded), "ep_12345678");
});

Deno.test("validateCredentials() checks proxies and header environment variables", async () => {
  await using tmp = await tmpConfig(`
[proxies.office]
url_env = "OFFICE_PROXY"

[providers.p]
id = "p"
base_url = "https://example.com/v1"
headers = [{ name = "x-org", value_env = "ORG_ID" }]

[[providers.p.accounts]]
name = "a1"
api_key = "${KEY_A}"
proxy = "office"

[[providers.p.accounts]]
name = "a2"
api_key = "${KEY_A}"
proxy_url_env = "A2_PROXY"
`);
  const missing = await loadConfig(tmp.path, { env: envOf({}) });
  assert.deepEqual(validateCredentials(missing).map((i) => i.path), [
    "proxies.office.url_env",
    "providers.p.accounts[1].proxy_url_env",
    "providers.p.headers[0].value_env",
  ]);
  const bad = await loadConfig(tmp.path, {
    env: envOf({
      OFFICE_PROXY: "socks4://10.0.0.1:1080",
      A2_PROXY: "socks5h://u:p@h:1",
      ORG_ID: "o",
    }),
  });
  const issues = validateCredentials(bad);
  assert.equal(issues.length, 1);
  assert.match(issues[0].message, /unsupported proxy scheme "socks4"/);
  assert.equal(resolveAccountProxyUrl(bad, "p", "a2"), "socks5h://u:p@h:1");
  assert.deepEqual(resolveProviderHeaders(bad, "p"), [{ name: "x-org", value: "o" }]);
});

Deno.test("describeKeySource() names the source and never the key", async () => {
  await using tmp = await tmpConfig(TWO_PROVIDERS.replace('"${MM_KEY}"', `"${KEY_B}"`));
  const loaded = await loadConfig(tmp.path, { env: envOf({}) });
  assert.equal(describeKeySource(loaded, "groq", "groq-1"), "env:GROQ_KEY_1 (missing)");
  assert.equal(describeKeySource(loaded, "minimax", "mm-1"), "inline");
  const withEnv = await loadConfig(tmp.path, { env: envOf({ GROQ_KEY_1: KEY_A }) });
  assert.equal(describeKeySource(withEnv, "groq", "groq-1"), "env:GROQ_KEY_1 (set)");
});

Deno.test("isPlaceholderKey() catches example keys but not real-looking ones", () => {
  for (
    const key of [
      "your-api-key-here",
      "YOUR-PROXY-API-KEY",
      "sk-your-key-1",
      "replace-me",
      "changeme",
      "xxxxxxxx",
      "sk-xxxxxxxxxxxx",
      "<your key>",
    ]
  ) {
    assert.ok(isPlaceholderKey(key), key);
  }
  for (const key of [KEY_A, KEY_B, "ep_" + "0f".repeat(32)]) assert.ok(!isPlaceholderKey(key), key);
});
