/**
 * `[security]` and the other keys of issue #12 item 8 through the real
 * `eggpool check-config`: values this version cannot honour are refused with
 * the key, the reason and what to do; none is accepted and then ignored.
 */
import assert from "node:assert/strict";
import { type CliResult, isolatedEnv, runEggpool } from "./_helpers/cli.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const GOOD_KEY = "sk-live-4f9a8c2e7b1d6039a5f4e8c7b2d1a0f9e8";

function config(extra: string): string {
  return `[server]
port = 11999

[providers.p]
id = "p"
base_url = "https://llm.example.com/v1"

[[providers.p.accounts]]
name = "p-1"
api_key_env = "P_KEY"

${extra}
`;
}

async function checkConfig(dir: string, toml: string): Promise<CliResult> {
  const path = `${dir}/config.toml`;
  await Deno.writeTextFile(path, toml);
  return await runEggpool(["--config", path, "check-config"], {
    cwd: dir,
    env: { ...isolatedEnv(dir), P_KEY: GOOD_KEY },
  });
}

function explain(r: CliResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

Deno.test("check-config refuses security and database values that would be ignored", async () => {
  await using tmp = await withTmpDir();
  const r = await checkConfig(
    tmp.path,
    config(`[database]
worker_threads = 2

[security]
persist_redacted_error_detail = true
cors_origins = ["http://localhost:5173/app"]
allowed_hosts = ["http://eggpool.lan"]
redact_headers = ["x bad"]
`),
  );
  assert.equal(r.code, 1, explain(r));
  assert.match(r.stderr, /configuration validation failed: 5 problems/, explain(r));
  const expected: [string, RegExp][] = [
    ["database.worker_threads", /not supported.*set it to 1/],
    ["security.persist_redacted_error_detail", /not supported.*set it to false/],
    ["security.cors_origins[0]", /is not an origin: write scheme:\/\/host\[:port\]/],
    ["security.allowed_hosts[0]", /is not a host name/],
    ["security.redact_headers[0]", /is not a header name/],
  ];
  for (const [key, message] of expected) {
    const line = r.stderr.split("\n").find((l) => l.includes(`- ${key}`));
    assert.ok(line, `no line names ${key}\n${explain(r)}`);
    assert.match(line, message);
  }
});

Deno.test("check-config accepts working security settings and warns about a wildcard origin", async () => {
  await using tmp = await withTmpDir();
  const r = await checkConfig(
    tmp.path,
    config(`[database]
worker_threads = 1

[security]
allowed_hosts = ["eggpool.lan", "192.168.1.20", "*.home.arpa"]
cors_origins = ["http://localhost:5173", "*"]
trusted_proxies = ["127.0.0.1"]
redact_headers = ["authorization", "x-api-key", "X-Upstream-Secret"]
persist_redacted_error_detail = false
`),
  );
  assert.equal(r.code, 0, explain(r));
  assert.match(r.stdout, /Configuration loaded successfully/);
  assert.match(r.stdout, /warning: security\.cors_origins\[1\].*every web page/);
});
