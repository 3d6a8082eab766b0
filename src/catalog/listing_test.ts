import assert from "node:assert/strict";
import { listModels, minimumLimits } from "./listing.ts";
import { ModelCatalog } from "./catalog.ts";
import { discoveredEntries } from "./build.ts";
import { resolveConfig } from "../config/schema.ts";
import type { ResolvedConfig } from "../config/schema.ts";

function config(raw: Record<string, unknown>): ResolvedConfig {
  const r = resolveConfig(raw, { defaultDatabasePath: ":memory:" });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

const CONFIG = config({
  model_overrides: {
    big: { max_context_tokens: 100_000, max_output_tokens: 8_000 },
  },
  providers: {
    alpha: {
      id: "alpha",
      base_url: "https://alpha.example/v1",
      routing_priority: 2,
      accounts: [{ name: "alpha-1", api_key_env: "ALPHA_KEY" }],
      // Provider-scoped output limit wins over the global one; context stays global.
      model_overrides: { big: { max_output_tokens: 4_000 } },
    },
    beta: {
      id: "beta",
      base_url: "https://beta.example/v1",
      accounts: [{ name: "beta-1", api_key_env: "BETA_KEY" }],
      model_overrides: { big: { max_context_tokens: 64_000 } },
    },
  },
});

function catalog(): ModelCatalog {
  const c = new ModelCatalog(["alpha", "beta"]);
  c.setProviderModels(
    "alpha",
    discoveredEntries(CONFIG, CONFIG.providers.alpha, [
      { id: "big", shape: "openai", maxContextTokens: 1_000_000, displayName: "Big Model" },
      { id: "small", shape: "openai" },
    ]),
  );
  c.setProviderModels(
    "beta",
    discoveredEntries(CONFIG, CONFIG.providers.beta, [{ id: "big", shape: "openai" }]),
  );
  return c;
}

const PRIORITIES = { alpha: 2, beta: 0 };

Deno.test("listModels() lists one model/provider id per pair with limits from overrides", () => {
  const { data } = listModels(catalog(), { collapse: false, priorities: PRIORITIES });
  assert.deepEqual(data.map((m) => m.id), ["big/alpha", "big/beta", "small/alpha"]);
  assert.deepEqual(data[0], {
    id: "big/alpha",
    object: "model",
    created: 0,
    owned_by: "alpha",
    name: "Big Model",
    eggpool: {
      base_model_id: "big",
      provider_id: "alpha",
      routing_priority: 2,
      protocols: ["openai"],
      limits: { context: 100_000, output: 4_000 },
    },
  });
  assert.deepEqual(data[1].eggpool?.limits, { context: 64_000, output: 8_000 });
  assert.equal(data[2].eggpool?.limits, undefined);
});

Deno.test("listModels() collapses to one id per model with the minimum limits", () => {
  const { data } = listModels(catalog(), { collapse: true, priorities: PRIORITIES });
  assert.deepEqual(data.map((m) => m.id), ["big", "small"]);
  assert.deepEqual(data[0].eggpool, {
    providers: ["alpha", "beta"],
    routing_priority_max: 2,
    protocols: ["openai"],
    limits: { context: 64_000, output: 4_000 },
  });
  assert.equal(data[0].owned_by, "alpha,beta");
});

Deno.test("listModels() hides pairs no eligible account can serve", () => {
  const { data } = listModels(catalog(), {
    collapse: false,
    isVisible: (provider) => provider !== "beta",
  });
  assert.deepEqual(data.map((m) => m.id), ["big/alpha", "small/alpha"]);
  const collapsed = listModels(catalog(), { collapse: true, isVisible: (p) => p === "beta" });
  assert.deepEqual(collapsed.data.map((m) => [m.id, m.eggpool?.providers]), [["big", ["beta"]]]);
});

Deno.test("minimumLimits() is undefined when nothing is known", () => {
  assert.equal(minimumLimits([]), undefined);
});
