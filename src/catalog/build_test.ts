import assert from "node:assert/strict";
import { resolveConfig } from "../config/schema.ts";
import { discoveredEntries, parseModelList, protocolByName } from "./build.ts";

function providers(protocols: string[]) {
  const r = resolveConfig({
    providers: {
      p: {
        id: "p",
        base_url: "https://p.example/v1",
        protocols,
        static_models: [{ id: "gpt-custom", protocol: "anthropic" }],
        accounts: [{ name: "a", api_key: "k" }],
      },
    },
  }, { defaultDatabasePath: ":memory:" });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return { config: r.config, provider: r.config.providers.p };
}

const LIST = {
  object: "list",
  data: [
    { id: "glm-4.6", object: "model" },
    { id: "MiniMax-M2", object: "model" },
    { id: "claude-3-5-haiku-20241022", object: "model" },
    { id: "house-model", object: "model" },
    { id: "tagged-model", object: "model", api_type: "anthropic" },
  ],
};

function protocols(protocolsOfProvider: string[]): Record<string, string> {
  const { config, provider } = providers(protocolsOfProvider);
  const listed = parseModelList(LIST)!;
  return Object.fromEntries(
    discoveredEntries(config, provider, listed).map((e) => [e.modelId, e.protocol]),
  );
}

Deno.test("a provider that speaks both protocols resolves each model by metadata, name, then list shape", () => {
  assert.deepEqual(protocols(["openai", "anthropic"]), {
    "gpt-custom": "anthropic", // the static row's protocol is config: it wins over the gpt- prefix
    "glm-4.6": "openai",
    "MiniMax-M2": "anthropic", // prefixes compare case-insensitively
    "claude-3-5-haiku-20241022": "anthropic",
    "house-model": "openai", // no rule: the OpenAI-shaped list
    "tagged-model": "anthropic", // the item's own api_type
  });
});

Deno.test("a provider that speaks one protocol serves every model over it, whatever the name", () => {
  const all = protocols(["openai"]);
  assert.equal(all["claude-3-5-haiku-20241022"], "openai");
  assert.equal(all["tagged-model"], "openai");
  assert.equal(all["MiniMax-M2"], "openai");
});

Deno.test("protocolByName() knows exact ids and prefixes, and nothing else", () => {
  assert.equal(protocolByName("gpt-4o"), "openai");
  assert.equal(protocolByName("O3-mini"), "openai");
  assert.equal(protocolByName("qwen3-coder"), "anthropic");
  assert.equal(protocolByName("deepseek-chat"), "openai");
  assert.equal(protocolByName("llama-3"), undefined);
});
