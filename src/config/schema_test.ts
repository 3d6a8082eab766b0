import assert from "node:assert/strict";
import { formatKeyPath } from "./_key_path.ts";
import { type ConfigResolution, resolveConfig } from "./schema.ts";

function resolve(raw: unknown): ConfigResolution {
  return resolveConfig(raw, { defaultDatabasePath: "/db.sqlite3" });
}

function errorsOf(raw: unknown): string[] {
  const r = resolve(raw);
  return r.ok ? [] : r.errors.map((e) => `${formatKeyPath(e.segments)}: ${e.message}`);
}

function provider(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    providers: {
      p: {
        id: "p",
        base_url: "https://example.com/v1",
        accounts: [{ name: "p1", api_key_env: "P_KEY" }],
        ...extra,
      },
    },
  };
}

Deno.test("resolveConfig() resolves every price to microdollars per million tokens", () => {
  const r = resolve({
    model_overrides: {
      m: {
        input_price_per_1k: "$3 / 1M",
        output_price_per_1k: "0.000015 per token",
        cache_read_per_million_microdollars: "$0.30 / 1M",
        cache_write_per_million_microdollars: 3750000,
      },
      n: { input_price_per_1k: 0.002, output_price_per_1k: "0.01" },
    },
  });
  assert.ok(r.ok);
  const m = r.config.model_overrides.m;
  assert.equal(m.input_price_per_1k, 3_000_000);
  assert.equal(m.output_price_per_1k, 15_000_000);
  assert.equal(m.cache_read_per_million_microdollars, 300_000);
  assert.equal(m.cache_write_per_million_microdollars, 3_750_000);
  assert.equal(r.config.model_overrides.n.input_price_per_1k, 2_000_000);
  assert.equal(r.config.model_overrides.n.output_price_per_1k, 10_000_000);
});

Deno.test("resolveConfig() rejects negative and unreadable prices", () => {
  assert.deepEqual(
    errorsOf({ model_overrides: { m: { input_price_per_1k: -1, output_price_per_1k: "cheap" } } })
      .map((e) => e.split(":")[0]),
    ["model_overrides.m.input_price_per_1k", "model_overrides.m.output_price_per_1k"],
  );
});

Deno.test("resolveConfig() guards against a repeated /v1 segment", () => {
  assert.deepEqual(errorsOf(provider({ openai_path: "/v1/chat/completions" })), [
    'providers.p.openai_path: repeats the version segment that base_url already ends with ("/v1"); ' +
    "requests would go to /v1/v1/chat/completions",
  ]);
  assert.deepEqual(
    errorsOf({
      providers: {
        q: {
          id: "q",
          base_url: "https://x.example/compatible-mode/v1/",
          models_path: "v1/models",
          enabled: false,
        },
      },
    }).length,
    1,
  );
  assert.deepEqual(errorsOf(provider({ anthropic_path: "/messages" })), []);
});

Deno.test("resolveConfig() checks provider headers", () => {
  const errors = errorsOf(provider({
    headers: [
      { name: "X-Org", value: "a" },
      { name: "x-org", value: "b" },
      { name: "Authorization", value: "c" },
      { name: "Connection", value: "close" },
      { name: "x-both", value: "d", value_env: "D" },
      { name: "bad name", value: "e" },
      { name: "x-crlf", value: "a\r\nb" },
    ],
  }));
  assert.deepEqual(errors.map((e) => e.split(":")[0]), [
    "providers.p.headers[5].name",
    "providers.p.headers[6].value",
    "providers.p.headers[1].name",
    "providers.p.headers[2].name",
    "providers.p.headers[3].name",
    "providers.p.headers[4]",
  ]);
});

Deno.test("resolveConfig() checks limits, keepalive, proxies and readiness", () => {
  const errors = errorsOf({
    ...provider({
      max_connections: 2,
      static_models: [{ id: "m", max_context_tokens: 100, max_input_tokens: 200 }, { id: "m" }],
      accounts: [{ name: "a", api_key_env: "K", proxy: "nowhere", proxy_url: "http://h:1" }],
    }),
    proxies: { both: { url: "http://h:1", url_env: "P" }, bad: { url: "ftp://h" } },
    network: { max_keepalive: 9 },
    readiness_probe: { interval_s: 30, freshness_s: 30 },
  });
  assert.deepEqual(errors.map((e) => e.split(":")[0]).sort(), [
    "network.max_keepalive",
    "providers.p.accounts[0].proxy",
    "providers.p.accounts[0].proxy_url",
    "providers.p.max_keepalive",
    "providers.p.static_models[0].max_input_tokens",
    "providers.p.static_models[1].id",
    "proxies.bad.url",
    "proxies.both",
    "readiness_probe.freshness_s",
  ]);
});

Deno.test("resolveConfig() requires the provider table name to equal its id", () => {
  assert.deepEqual(
    errorsOf({ providers: { p: { id: "q", base_url: "https://e.com", enabled: false } } }),
    ['providers.p.id: must equal the table name "p"'],
  );
  assert.match(
    errorsOf({ providers: { "-p": { id: "-p", base_url: "https://e.com" } } })[0],
    /^providers\.-p: provider id must be/,
  );
});

Deno.test("resolveConfig() refuses a provider with no accounts unless it is switched off", () => {
  const bare = { id: "p", base_url: "https://e.com/v1" };
  assert.deepEqual(errorsOf({ providers: { p: bare } }), [
    "providers.p: has no accounts: add a [[providers.p.accounts]] table (name and api_key_env), " +
    "or set enabled = false to keep the provider switched off",
  ]);
  assert.deepEqual(errorsOf({ providers: { p: { ...bare, accounts: [] } } }).length, 1);
  const off = resolve({
    providers: {
      p: { ...bare, enabled: false },
      q: { id: "q", base_url: "https://q.example/v1", accounts: [{ name: "q1", api_key: "k" }] },
    },
  });
  assert.ok(off.ok);
  // A switched-off provider is not served at all: no catalog, no accounts.
  assert.deepEqual(Object.keys(off.config.providers), ["q"]);
});

Deno.test("resolveConfig() accepts the fields added for affinity and stream idle timeouts", () => {
  const r = resolve({
    routing: { affinity: "off", affinity_idle_s: 60 },
    upstream: { stream_idle_timeout_s: 5 },
  });
  assert.ok(r.ok);
  assert.equal(r.config.routing.affinity, "off");
  assert.deepEqual(
    errorsOf({ routing: { affinity: "maybe", affinity_idle_s: 0 } }).map((e) => e.split(":")[0]),
    [
      "routing.affinity",
      "routing.affinity_idle_s",
    ],
  );
});

Deno.test("resolveConfig() warns when hard_cap is on and when no accounts exist", () => {
  const r = resolve({ routing: { local_quota_mode: "hard_cap" } });
  assert.ok(r.ok);
  assert.deepEqual(r.warnings.map((w) => formatKeyPath(w.segments)), [
    "routing.local_quota_mode",
    "providers",
  ]);
});
