/** `POST /v1/messages/count_tokens`: an Anthropic account's count, else a local estimate, never a failure. */
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, mockProvidersToml, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { estimateInputTokens as estimate } from "../src/proxy/token_estimate.ts";

const BODY = {
  model: "mock-small",
  system: "You count.",
  messages: [{ role: "user" as const, content: "How many tokens is this sentence?" }],
};

Deno.test("count_tokens asks the Anthropic account, or estimates when it fails or none exists", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url) });
  const anthropic = new Anthropic({ baseURL: pool.origin, apiKey: LOCAL_KEY, maxRetries: 0 });
  const counted = await anthropic.messages.countTokens(BODY).withResponse();
  const [asked] = mock.requests.filter((r) => r.route === "count_tokens");
  assert.equal(asked.key, "sk-mockant-key-1");
  assert.equal((asked.body as { model: string }).model, "mock-small");
  assert.equal(asked.headers["x-api-key"], "sk-mockant-key-1", "the account's key, not ours");
  assert.equal(counted.data.input_tokens, Math.max(1, Math.ceil(asked.bodyChars / 4)));
  assert.equal(counted.response.headers.get("x-proxy-token-count-source"), "upstream");

  mock.script.set("sk-mockant-key-1", {
    status: 500,
    match: (r) => r.route === "count_tokens",
  });
  const fallback = await anthropic.messages.countTokens(BODY).withResponse();
  assert.equal(fallback.data.input_tokens, estimate(BODY));
  assert.equal(fallback.response.headers.get("x-proxy-token-count-source"), "estimate");

  // A model only OpenAI accounts serve: the estimate, and nothing sent upstream.
  const before = mock.requests.length;
  const openaiOnly = await anthropic.messages.countTokens({ ...BODY, model: "mock-small/mockoai" });
  assert.equal(openaiOnly.input_tokens, estimate(BODY));
  assert.equal(mock.requests.length, before);
  assert.equal(pool.query("SELECT * FROM requests").length, 0, "a count is not a completion");
});

Deno.test("count_tokens refuses a body without a model in Anthropic's envelope", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url) });
  const res = await fetch(`${pool.origin}/v1/messages/count_tokens`, {
    method: "POST",
    headers: { "x-api-key": LOCAL_KEY, "content-type": "application/json" },
    body: JSON.stringify({ messages: [] }),
  });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.type, "error");
  assert.equal(body.error.type, "invalid_request_error");
  assert.match(body.error.message, /model/);
  const denied = await fetch(`${pool.origin}/v1/messages/count_tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(BODY),
  });
  assert.equal(denied.status, 401);
  await denied.body?.cancel();
});
