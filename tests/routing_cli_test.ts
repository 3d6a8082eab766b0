/**
 * `eggpool models refresh` and `eggpool accounts list|status` as real
 * subprocesses, against a mock models endpoint and a stand-in status server.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { Hono } from "hono";
import { isolatedEnv, runEggpool } from "./_helpers/cli.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { mountRoutingRoutes } from "../src/http/backoffs_route.ts";
import { createKeyChecker } from "../src/http/auth.ts";
import type { HttpEnv } from "../src/http/server.ts";
import { AccountPool } from "../src/accounts/pool.ts";
import { fakeAccount, fakeProvider } from "../src/accounts/_fixtures.ts";
import { classifyResponse } from "../src/routing/classify.ts";
import { freePort } from "./_helpers/ops.ts";

const LOCAL_KEY = "ep_cli_status_key_0123456789";

function configToml(dir: string, baseUrl: string, port = 11399): string {
  return `[server]
host = "127.0.0.1"
port = ${port}
api_key = "${LOCAL_KEY}"

[database]
path = "${dir}/usage.sqlite3"

[providers.mock]
id = "mock"
base_url = "${baseUrl}"
routing_priority = 3

[[providers.mock.accounts]]
name = "mock-inline"
api_key = "sk-inline-abcdefghijkl"

[[providers.mock.accounts]]
name = "mock-env"
api_key_env = "MOCK_KEY"

[providers.other]
id = "other"
base_url = "https://other.invalid/v1"
models_endpoint = { method = "DISABLED" }
static_models = [{ id = "static-one" }]

[[providers.other.accounts]]
name = "other-short"
api_key = "shortkey"
enabled = false
`;
}

async function setup(dir: string, baseUrl: string, port?: number): Promise<string> {
  const path = `${dir}/config.toml`;
  await Deno.writeTextFile(path, configToml(dir, baseUrl, port));
  return path;
}

Deno.test("eggpool models refresh stores every provider's list", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({
    keys: ["sk-inline-abcdefghijkl", "sk-env-key-000000"],
    models: ["alpha", "beta"],
  });
  const config = await setup(tmp.path, mock.url);
  const r = await runEggpool(["--config", config, "models", "refresh"], {
    cwd: tmp.path,
    env: { ...isolatedEnv(tmp.path), MOCK_KEY: "sk-env-key-000000" },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ {2}mock: 2 models$/m);
  assert.match(r.stdout, /^ {2}other: 1 model \(static; no live list fetched\)$/m);
  assert.match(r.stdout, /^Refreshed catalog: 3 models found$/m);
  assert.equal(mock.requests.filter((q) => q.route === "models").length, 2);
  const db = new DatabaseSync(`${tmp.path}/usage.sqlite3`, { readOnly: true });
  try {
    const rows = db.prepare("SELECT model_id FROM provider_models ORDER BY model_id").all();
    assert.deepEqual(rows.map((x) => x.model_id), ["alpha", "beta"]);
  } finally {
    db.close();
  }
});

Deno.test("eggpool models refresh fails when every models endpoint fails", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ keys: ["nobody"] });
  const config = await setup(tmp.path, mock.url);
  const r = await runEggpool(["--config", config, "models", "refresh"], {
    cwd: tmp.path,
    env: { ...isolatedEnv(tmp.path), MOCK_KEY: "sk-env-key-000000" },
  });
  assert.equal(r.code, 1);
  assert.match(
    r.stdout,
    /mock: 0 models \(failed: mock-inline: HTTP 401, the provider rejected the key; mock-env: HTTP 401, the provider rejected the key\)/,
  );
  assert.match(r.stderr, /every provider's models endpoint failed/);
});

Deno.test("eggpool accounts list masks keys", async () => {
  await using tmp = await withTmpDir();
  const config = await setup(tmp.path, "https://mock.invalid/v1");
  const r = await runEggpool(["--config", config, "accounts", "list"], {
    cwd: tmp.path,
    env: isolatedEnv(tmp.path),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    "Configured accounts:\n" +
      "  mock/mock-inline  sk-i...ijkl\n" +
      "  mock/mock-env  env:MOCK_KEY (unset)\n" +
      "  other/other-short  ****\n" +
      "\nTotal: 3 accounts\n",
  );
  assert.ok(!r.stdout.includes("abcdefgh"));
});

Deno.test("eggpool accounts status falls back to the config when no server answers", async () => {
  await using tmp = await withTmpDir();
  const port = freePort();
  const config = await setup(tmp.path, "https://mock.invalid/v1", port);
  const r = await runEggpool(["--config", config, "accounts", "status"], {
    cwd: tmp.path,
    env: { ...isolatedEnv(tmp.path), MOCK_KEY: "set-me-please" },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Account status from the config only \(no server answered at/m);
  assert.match(
    r.stdout,
    /^ {2}mock-env: provider=mock, priority=3, enabled=true, weight=1, api_key_env=MOCK_KEY \(set=yes\)$/m,
  );
  assert.match(r.stdout, /other-short: provider=other, priority=0, enabled=false/);
  assert.match(r.stdout, /^Total accounts: 3$/m);
});

Deno.test("eggpool accounts status reads the running server's routing state", async () => {
  await using tmp = await withTmpDir();
  const prov = fakeProvider("mock", { priority: 3 });
  const pool = new AccountPool([fakeAccount("mock-inline", prov)], { clock: Date.now });
  pool.recordFailure(
    "mock-inline",
    classifyResponse(429, new Headers({ "retry-after": "600" }), undefined, {
      now: Date.now(),
      quotaCooldownMs: 1,
    }),
  );
  pool.observe("mock-inline", { at: Date.now(), tokens: 1234, costMicros: 3_000_000 });
  const app = new Hono<HttpEnv>();
  mountRoutingRoutes(app, {
    keys: createKeyChecker(LOCAL_KEY),
    isPublic: false,
    pool,
    clock: Date.now,
    affinity: () => ({ livePins: 3, moves: { rate_limited: 2 }, cacheShare: 0.875 }),
  });
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => app.fetch(req),
  );
  const config = await setup(tmp.path, "https://mock.invalid/v1", server.addr.port);
  const r = await runEggpool(["--config", config, "accounts", "status"], {
    cwd: tmp.path,
    env: isolatedEnv(tmp.path),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Account status from http:\/\/127\.0\.0\.1:\d+:$/m);
  assert.match(
    r.stdout,
    /mock-inline: provider=mock, priority=3, enabled=true, weight=1, in_flight=0/,
  );
  assert.match(r.stdout, /5h 1 req, 1234 tok, \$3\.00 of \$12\.00/);
  assert.match(r.stdout, /backoff: rate_limited until \S+Z, HTTP 429/);
  assert.match(r.stdout, /last error: upstream_rate_limited \(HTTP 429\)/);
  assert.match(
    r.stdout,
    /affinity: 3 live pins, cache share 87\.5%, moves away: rate_limited 2/,
  );
  assert.match(r.stdout, /^Total accounts: 1$/m);
});
