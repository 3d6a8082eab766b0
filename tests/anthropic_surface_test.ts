/**
 * The Anthropic-only parts of the surface Claude Code and the Anthropic SDK
 * use besides `/v1/messages`: `POST /v1/messages/count_tokens` and the
 * Anthropic shape of `GET /v1/models` (list and retrieve), driven by the real
 * SDKs through EggPool against the loopback mock upstream.
 */
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import type { MockUpstream, RecordedRequest } from "../src/sim/mock_upstream.ts";
import { estimateTokens } from "../src/sim/_mock_reply.ts";
import { estimateInputTokens } from "../src/proxy/token_estimate.ts";
import { LOCAL_KEY, mockProvidersToml, startEggPool } from "./_helpers/eggpool.ts";
import type { TestEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const WEATHER_TOOL = {
  name: "get_weather",
  description: "The weather in a city",
  input_schema: {
    type: "object" as const,
    properties: { city: { type: "string" } },
    required: ["city"],
  },
};

const COUNT_BODY = {
  model: "mock-small",
  system: "You are a terse assistant.",
  tools: [WEATHER_TOOL],
  messages: [
    { role: "user" as const, content: "What is the weather in Lisbon?" },
    {
      role: "assistant" as const,
      content: [{
        type: "tool_use" as const,
        id: "toolu_1",
        name: "get_weather",
        input: { city: "Lisbon" },
      }],
    },
    {
      role: "user" as const,
      content: [{ type: "tool_result" as const, tool_use_id: "toolu_1", content: "Sunny, 24 C" }],
    },
  ],
};

/** Only the OpenAI-protocol provider of {@linkcode mockProvidersToml}. */
function openaiOnlyToml(mockUrl: string): string {
  return [
    "[providers.mockoai]",
    'id = "mockoai"',
    `base_url = "${mockUrl}"`,
    'protocols = ["openai"]',
    "[[providers.mockoai.accounts]]",
    'name = "mockoai-1"',
    'api_key = "sk-mockoai-key-1"',
  ].join("\n") + "\n";
}

function counts(mock: MockUpstream): RecordedRequest[] {
  return mock.requests.filter((r) => r.route === "count_tokens");
}

function rows(pool: TestEggPool): number {
  return Number(pool.query("SELECT COUNT(*) AS n FROM requests")[0].n);
}

function clients(pool: TestEggPool) {
  return {
    anthropic: new Anthropic({ baseURL: pool.origin, apiKey: LOCAL_KEY, maxRetries: 0 }),
    openai: new OpenAI({ baseURL: `${pool.origin}/v1`, apiKey: LOCAL_KEY, maxRetries: 0 }),
  };
}

function postCount(
  pool: TestEggPool,
  body: string,
  headers: Record<string, string> = {},
  query = "",
) {
  return fetch(`${pool.origin}/v1/messages/count_tokens${query}`, {
    method: "POST",
    headers: {
      "x-api-key": LOCAL_KEY,
      "anthropic-version": "2023-06-01",
      "content-type": "application/json",
      ...headers,
    },
    body,
  });
}

Deno.test("count_tokens: an Anthropic account counts, with its own key, and no stats row is written", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small", "mock-large"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url) });
  const { anthropic } = clients(pool);

  const counted = await anthropic.messages.countTokens(COUNT_BODY).withResponse();
  const [asked] = counts(mock);
  assert.equal(counts(mock).length, 1, "one attempt upstream");
  assert.equal(asked.path, "/v1/messages/count_tokens");
  assert.equal(asked.key, "sk-mockant-key-1", "the account's key, not the local one");
  assert.equal(asked.headers["anthropic-version"], "2023-06-01");
  assert.deepEqual(asked.body, COUNT_BODY, "the client's body goes upstream unchanged");
  assert.equal(counted.data.input_tokens, estimateTokens(asked.bodyChars), "the upstream's count");
  assert.notEqual(counted.data.input_tokens, estimateInputTokens(COUNT_BODY));
  assert.equal(counted.response.headers.get("x-proxy-token-count-source"), "upstream");

  // Claude Code's form: `?beta=true` and an `anthropic-beta` list, both passed on.
  const beta = await postCount(pool, JSON.stringify(COUNT_BODY), {
    "anthropic-beta": "claude-code-20250219",
  }, "?beta=true");
  assert.equal(beta.status, 200);
  assert.deepEqual(await beta.json(), { input_tokens: counted.data.input_tokens });
  assert.equal(counts(mock)[1].headers["anthropic-beta"], "claude-code-20250219");
  mock.reset();

  // `model/provider` narrows to that provider; the suffix does not go upstream.
  const suffixed = await anthropic.messages.countTokens({
    ...COUNT_BODY,
    model: "mock-large/mockant",
  });
  assert.equal(counts(mock)[0].model, "mock-large");
  assert.equal(suffixed.input_tokens, estimateTokens(counts(mock)[0].bodyChars));

  // A count spends no quota: no request row. A completion still writes exactly one.
  assert.equal(rows(pool), 0);
  await anthropic.messages.create({
    model: "mock-small",
    max_tokens: 32,
    messages: [{ role: "user", content: "hello" }],
  });
  await anthropic.messages.countTokens(COUNT_BODY);
  assert.equal(rows(pool), 1, "only the completion is in the stats");
  assert.equal(pool.query("SELECT status FROM requests")[0].status, "completed");
});

Deno.test("count_tokens: an upstream failure falls back to the estimate and parks no account; a parked account is not asked", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url) });
  const { anthropic } = clients(pool);

  mock.script.set("sk-mockant-key-1", {
    status: 429,
    retryAfter: 60,
    times: 1,
    match: (r) => r.route === "count_tokens",
  });
  const fallback = await anthropic.messages.countTokens(COUNT_BODY).withResponse();
  assert.equal(fallback.data.input_tokens, estimateInputTokens(COUNT_BODY));
  assert.equal(fallback.response.headers.get("x-proxy-token-count-source"), "estimate");
  assert.equal(
    fallback.response.headers.get("x-proxy-token-count-fallback"),
    "upstream_status_429",
  );
  assert.equal(counts(mock).length, 1);

  // The 429 on a count did not rest the account: the next count is asked upstream again.
  const again = await anthropic.messages.countTokens(COUNT_BODY).withResponse();
  assert.equal(again.response.headers.get("x-proxy-token-count-source"), "upstream");
  assert.equal(counts(mock).length, 2);

  // A completion's 429 does rest it; a count then honours that backoff and estimates.
  // (`/mockant` keeps the completion off the OpenAI account the transcoder could move it to.)
  mock.script.set("sk-mockant-key-1", { status: 429, retryAfter: 60, times: 1 });
  await assert.rejects(
    anthropic.messages.create({
      model: "mock-small/mockant",
      max_tokens: 16,
      messages: [{ role: "user", content: "hi" }],
    }),
    (e: unknown) => e instanceof Anthropic.RateLimitError,
  );
  const parked = await anthropic.messages.countTokens(COUNT_BODY).withResponse();
  assert.equal(parked.response.headers.get("x-proxy-token-count-source"), "estimate");
  assert.equal(parked.response.headers.get("x-proxy-token-count-fallback"), "no_eligible_account");
  assert.equal(parked.data.input_tokens, estimateInputTokens(COUNT_BODY));
  assert.equal(counts(mock).length, 2, "the resting account was not asked");
  assert.equal(rows(pool), 1, "the failed completion is the only row");
});

Deno.test("count_tokens: with only OpenAI accounts the answer is the local estimate, nothing goes upstream", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: openaiOnlyToml(mock.url) });
  const { anthropic } = clients(pool);
  const before = mock.requests.length;
  const image = {
    role: "user" as const,
    content: [
      { type: "text" as const, text: "Describe this picture." },
      {
        type: "image" as const,
        source: { type: "base64" as const, media_type: "image/png" as const, data: "iVBORw0KGgo=" },
      },
    ],
  };
  const body = { ...COUNT_BODY, messages: [...COUNT_BODY.messages, image] };
  const res = await anthropic.messages.countTokens(body).withResponse();
  assert.equal(res.data.input_tokens, estimateInputTokens(body));
  assert.ok(res.data.input_tokens > 1_600, "an image counts as an image, not as its base64 text");
  assert.equal(res.response.headers.get("x-proxy-token-count-source"), "estimate");
  assert.equal(res.response.headers.get("x-proxy-token-count-fallback"), "no_anthropic_account");
  assert.equal(mock.requests.length, before, "nothing sent upstream");
  assert.equal(rows(pool), 0);
});

Deno.test("count_tokens: unknown model, malformed bodies and bad keys get Anthropic's error envelope", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url) });
  const { anthropic } = clients(pool);

  await assert.rejects(
    anthropic.messages.countTokens({ ...COUNT_BODY, model: "no-such-model" }),
    (e: unknown) => {
      assert.ok(e instanceof Anthropic.NotFoundError);
      assert.equal(e.status, 404);
      assert.equal((e.error as { error: { type: string } }).error.type, "not_found_error");
      assert.match(e.message, /Model 'no-such-model' not found/);
      return true;
    },
  );

  const cases: [string, string, RegExp][] = [
    ["{not json", "", /Invalid JSON/],
    ["[1, 2]", "", /must be a JSON object/],
    [JSON.stringify({ messages: [] }), "model", /Missing model field/],
    [JSON.stringify({ model: "mock-small" }), "messages", /"messages" must be an array/],
    [JSON.stringify({ model: "mock-small", messages: ["hi"] }), "messages", /messages\[0\]/],
    [
      JSON.stringify({ model: "mock-small", messages: [], tools: {} }),
      "tools",
      /"tools" must be an array/,
    ],
    [JSON.stringify({ model: "mock-small", messages: [], system: 3 }), "system", /"system"/],
  ];
  for (const [body, field, message] of cases) {
    const res = await postCount(pool, body);
    assert.equal(res.status, 400, body);
    const err = await res.json();
    assert.equal(err.type, "error");
    assert.equal(err.error.type, "invalid_request_error");
    assert.match(err.error.message, message);
    if (field !== "") assert.match(err.error.message, new RegExp(field));
  }

  for (const headers of [{ "x-api-key": "ep_wrong_key_0123456789" }, { "x-api-key": "" }]) {
    const res = await postCount(pool, JSON.stringify(COUNT_BODY), headers);
    assert.equal(res.status, 401);
    const err = await res.json();
    assert.equal(err.type, "error");
    assert.equal(err.error.type, "authentication_error");
  }
  const wrong = new Anthropic({
    baseURL: pool.origin,
    apiKey: "ep_wrong_key_0123456789",
    maxRetries: 0,
  });
  await assert.rejects(
    wrong.messages.countTokens(COUNT_BODY),
    (e: unknown) => e instanceof Anthropic.AuthenticationError,
  );
  assert.equal(counts(mock).length, 0, "no refused request reached the upstream");
  assert.equal(rows(pool), 0);
});

Deno.test("GET /v1/models: the Anthropic SDK gets Anthropic's pages, the OpenAI SDK the OpenAI list", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small", "mock-large", "mock-xl"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url) });
  const { anthropic, openai } = clients(pool);

  const expected = [
    "mock-large/mockant",
    "mock-large/mockoai",
    "mock-small/mockant",
    "mock-small/mockoai",
    "mock-xl/mockant",
    "mock-xl/mockoai",
  ];
  const openaiPage = await openai.models.list();
  assert.deepEqual(openaiPage.data.map((m) => m.id), expected);
  for (const m of openaiPage.data) {
    assert.equal(m.object, "model");
    assert.equal(m.owned_by, m.id.split("/")[1]);
    assert.equal("type" in m, false, "the OpenAI shape is unchanged");
  }

  const first = await anthropic.models.list();
  assert.deepEqual(first.data.map((m) => m.id), expected, "one page under the default limit");
  assert.equal(first.has_more, false);
  assert.equal(first.first_id, expected[0]);
  assert.equal(first.last_id, expected.at(-1));
  for (const m of first.data) {
    assert.equal(m.type, "model");
    assert.equal(m.display_name, m.id.split("/")[0]);
    assert.equal(m.created_at, "1970-01-01T00:00:00Z");
  }

  // Pages of two, followed by the SDK itself through after_id.
  const paged: string[] = [];
  let pages = 0;
  for await (const page of (await anthropic.models.list({ limit: 2 })).iterPages()) {
    pages++;
    paged.push(...page.data.map((m) => m.id));
  }
  assert.deepEqual(paged, expected);
  assert.equal(pages, 3);

  // before_id pages backwards: the two right before the cursor.
  const back = await anthropic.models.list({ limit: 2, before_id: "mock-xl/mockant" });
  assert.deepEqual(back.data.map((m) => m.id), ["mock-small/mockant", "mock-small/mockoai"]);
  assert.equal(back.has_more, true);
  const start = await anthropic.models.list({ limit: 2, before_id: back.first_id! });
  assert.deepEqual(start.data.map((m) => m.id), expected.slice(0, 2));
  assert.equal(start.has_more, false);

  for (const query of ["limit=0", "limit=1001", "limit=two", "after_id=a&before_id=b"]) {
    const res = await fetch(`${pool.origin}/v1/models?${query}`, {
      headers: { "x-api-key": LOCAL_KEY, "anthropic-version": "2023-06-01" },
    });
    assert.equal(res.status, 400, query);
    const err = await res.json();
    assert.equal(err.type, "error");
    assert.equal(err.error.type, "invalid_request_error");
    assert.match(err.error.message, query.startsWith("limit") ? /limit/ : /after_id or before_id/);
  }

  // Auth failures answer in the shape the client reads.
  await assert.rejects(
    new Anthropic({ baseURL: pool.origin, apiKey: "ep_wrong_key_0123456789", maxRetries: 0 })
      .models.list(),
    (e: unknown) => {
      assert.ok(e instanceof Anthropic.AuthenticationError);
      assert.equal((e.error as { error: { type: string } }).error.type, "authentication_error");
      return true;
    },
  );
  await assert.rejects(
    new OpenAI({ baseURL: `${pool.origin}/v1`, apiKey: "ep_wrong_key_0123456789", maxRetries: 0 })
      .models.list(),
    (e: unknown) => {
      assert.ok(e instanceof OpenAI.AuthenticationError);
      assert.equal(e.code, "invalid_api_key");
      return true;
    },
  );
});

Deno.test("GET /v1/models/{model_id} in both shapes, bare ids included; unknown ids are 404s", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url) });
  const { anthropic, openai } = clients(pool);

  const a = await anthropic.models.retrieve("mock-small/mockant");
  assert.deepEqual(
    { id: a.id, type: a.type, display_name: a.display_name, created_at: a.created_at },
    {
      id: "mock-small/mockant",
      type: "model",
      display_name: "mock-small",
      created_at: "1970-01-01T00:00:00Z",
    },
  );
  const o = await openai.models.retrieve("mock-small/mockoai");
  assert.equal(o.id, "mock-small/mockoai");
  assert.equal(o.object, "model");
  assert.equal(o.owned_by, "mockoai");

  // A bare id, which every endpoint accepts, is found though the list shows it suffixed.
  const bare = await anthropic.models.retrieve("mock-small");
  assert.equal(bare.id, "mock-small");
  assert.equal(bare.display_name, "mock-small");
  const bareOpenai = await openai.models.retrieve("mock-small");
  assert.equal(bareOpenai.owned_by, "mockant,mockoai");

  await assert.rejects(anthropic.models.retrieve("nope"), (e: unknown) => {
    assert.ok(e instanceof Anthropic.NotFoundError);
    assert.equal((e.error as { error: { type: string } }).error.type, "not_found_error");
    return true;
  });
  await assert.rejects(openai.models.retrieve("nope"), (e: unknown) => {
    assert.ok(e instanceof OpenAI.NotFoundError);
    assert.match(e.message, /Model 'nope' not found/);
    return true;
  });
});
