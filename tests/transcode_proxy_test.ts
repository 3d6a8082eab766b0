/**
 * Transcoding through the whole proxy: a multi-turn tool conversation, errors
 * in the client's envelope, a stream cut mid-tool-call, failover from one
 * protocol to the other, and the `[transcoder]` switches.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import type { MockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, mockProvidersToml, postJson, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const WEATHER = {
  type: "function" as const,
  function: {
    name: "weather",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};

function anthropicOnly(mockUrl: string, transcoder = ""): string {
  return [
    transcoder,
    "[providers.onlyant]",
    'id = "onlyant"',
    `base_url = "${mockUrl}"`,
    'protocols = ["anthropic"]',
    "[providers.onlyant.auth]",
    'mode = "api_key"',
    'header = "x-api-key"',
    "[[providers.onlyant.accounts]]",
    'name = "onlyant-1"',
    'api_key = "sk-onlyant"',
  ].join("\n") + "\n";
}

function completions(mock: MockUpstream) {
  return mock.requests.filter((r) => r.route !== "models");
}

Deno.test("a three-turn tool conversation keeps its tool ids across the translation", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: anthropicOnly(mock.url) });
  const openai = new OpenAI({ baseURL: `${pool.origin}/v1`, apiKey: LOCAL_KEY, maxRetries: 0 });
  const messages: OpenAI.ChatCompletionMessageParam[] = [
    { role: "user", content: "use the tool for Oslo" },
  ];
  const turn1 = await openai.chat.completions.create({
    model: "mock-small",
    messages,
    tools: [WEATHER],
  });
  const call = turn1.choices[0].message
    .tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
  assert.equal(turn1.choices[0].finish_reason, "tool_calls");
  messages.push(turn1.choices[0].message, { role: "tool", tool_call_id: call.id, content: "4 °C" });
  const turn2 = await openai.chat.completions.create({
    model: "mock-small",
    messages,
    tools: [WEATHER],
  });
  assert.equal(turn2.choices[0].finish_reason, "stop");
  assert.equal(typeof turn2.choices[0].message.content, "string");
  messages.push(turn2.choices[0].message, { role: "user", content: "now use the tool for Rome" });
  const turn3 = await openai.chat.completions.create({
    model: "mock-small",
    messages,
    tools: [WEATHER],
  });
  assert.equal(turn3.choices[0].finish_reason, "tool_calls");

  const [, second, third] = completions(mock).map((r) =>
    r.body as { messages: { role: string; content: unknown }[] }
  );
  assert.deepEqual(second.messages.slice(1), [
    {
      role: "assistant",
      content: [
        { type: "text", text: turn1.choices[0].message.content },
        {
          type: "tool_use",
          id: call.id,
          name: "weather",
          input: JSON.parse(call.function.arguments),
        },
      ],
    },
    { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "4 °C" }] },
  ]);
  assert.equal(third.messages.length, 5);
  assert.deepEqual(
    third.messages[2],
    second.messages[2],
    "the tool result is sent the same way every turn",
  );
  assert.deepEqual(third.messages[4], {
    role: "user",
    content: [{ type: "text", text: "now use the tool for Rome" }],
  });
});

Deno.test("an upstream error comes back in the client's envelope with its status", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: anthropicOnly(mock.url) });
  mock.script.set("sk-onlyant", {
    status: 400,
    errorType: "invalid_request_error",
    message: "messages: bad turn",
  });
  const res = await postJson(pool.origin, "/v1/chat/completions", {
    model: "mock-small",
    messages: [{ role: "user", content: "hi" }],
  });
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), {
    error: {
      message: "messages: bad turn",
      type: "invalid_request_error",
      param: null,
      code: "invalid_request_error",
    },
  });
  const [row] = pool.query("SELECT status, status_code, upstream_protocol FROM requests");
  assert.deepEqual({ ...row }, {
    status: "client_error",
    status_code: 400,
    upstream_protocol: "anthropic",
  });
});

Deno.test("a stream cut mid-tool-call ends with the client protocol's error event, never [DONE]", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: anthropicOnly(mock.url) });
  // message_start, ping, a text block (start, 4 deltas, stop), the tool block's start and
  // two argument deltas: the connection is cut there. Frames are spaced so each one is
  // on the wire before the cut (a reset discards bytes still in the send buffer).
  mock.script.set("sk-onlyant", { dropAfterFrames: 11, frameDelayMs: 5 });
  const res = await postJson(pool.origin, "/v1/chat/completions", {
    model: "mock-small",
    stream: true,
    tools: [WEATHER],
    messages: [{ role: "user", content: "use the tool for Oslo" }],
  });
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.ok(text.includes('"tool_calls"'), "the tool call had started reaching the client");
  assert.ok(!text.includes("[DONE]"));
  assert.ok(!text.includes('"finish_reason":"tool_calls"'));
  const last = text.trim().split("\n\n").at(-1)!;
  const error = JSON.parse(last.slice("data: ".length));
  assert.equal(error.error.type, "api_error");
  const [row] = pool.query("SELECT status, error_class FROM requests");
  assert.equal(row.status, "error");
  assert.equal(row.error_class, "stream_truncated");
});

Deno.test("failover crosses protocols: a rate-limited Anthropic account hands over to an OpenAI one", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url) });
  mock.script.set("sk-mockant-key-1", {
    status: 429,
    retryAfter: 30,
    errorType: "rate_limit_error",
  });
  const res = await postJson(pool.origin, "/v1/messages", {
    model: "mock-small",
    max_tokens: 64,
    messages: [{ role: "user", content: "route me anywhere" }],
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.type, "message");
  assert.deepEqual(body.content, [{ type: "text", text: "echo: route me anywhere" }]);
  assert.deepEqual(completions(mock).map((r) => [r.route, r.key]), [
    ["messages", "sk-mockant-key-1"],
    ["chat_completions", "sk-mockoai-key-1"],
  ]);
  const [row] = pool.query(
    "SELECT client_protocol, upstream_protocol, provider_id, attempt_count FROM requests",
  );
  assert.deepEqual({ ...row }, {
    client_protocol: "anthropic",
    upstream_protocol: "openai",
    provider_id: "mockoai",
    attempt_count: 2,
  });
});

Deno.test("lost fields: a warning header under warn, a 400 naming them under reject", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  const request = {
    model: "mock-small",
    messages: [{ role: "user", content: "hi" }],
    seed: 7,
    logit_bias: { "42": 1 },
  };
  {
    await using pool = await startEggPool({ dir: `${tmp.path}`, toml: anthropicOnly(mock.url) });
    const res = await postJson(pool.origin, "/v1/chat/completions", request);
    assert.equal(res.status, 200);
    assert.equal(
      res.headers.get("x-proxy-transcode-warnings"),
      "seed (unsupported), logit_bias (unsupported)",
    );
    await res.body?.cancel();
    const sent = completions(mock)[0].body as Record<string, unknown>;
    assert.equal(sent.seed, undefined);
  }
  await Deno.mkdir(`${tmp.path}/reject`);
  await using strict = await startEggPool({
    dir: `${tmp.path}/reject`,
    toml: anthropicOnly(mock.url, '[transcoder]\nloss_policy = "reject"'),
  });
  const before = completions(mock).length;
  const res = await postJson(strict.origin, "/v1/chat/completions", request);
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(
    body.error.message,
    "Request cannot be transcoded without losing information: seed (unsupported), logit_bias (unsupported)",
  );
  assert.equal(body.error.param, "seed");
  assert.equal(completions(mock).length, before, "nothing reached the upstream");
});

Deno.test("[transcoder] enabled = false keeps the 400 that names the other endpoint", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: anthropicOnly(mock.url, "[transcoder]\nenabled = false"),
  });
  const res = await postJson(pool.origin, "/v1/chat/completions", {
    model: "mock-small",
    messages: [{ role: "user", content: "hi" }],
  });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(
    body.error.message,
    "Model 'mock-small' uses the Anthropic protocol. Use /v1/messages instead of /v1/chat/completions.",
  );
  assert.equal(completions(mock).length, 0);
});

Deno.test("a native account is preferred while it can serve; the native body goes byte for byte", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url) });
  const raw =
    '{"model":"mock-small","max_tokens":32,  "messages":[{"role":"user","content":"native"}]}';
  const res = await fetch(`${pool.origin}/v1/messages`, {
    method: "POST",
    headers: { authorization: `Bearer ${LOCAL_KEY}`, "content-type": "application/json" },
    body: raw,
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-proxy-transcode-warnings"), null);
  await res.body?.cancel();
  const [seen] = completions(mock);
  assert.equal(seen.route, "messages");
  assert.equal(seen.bodyChars, raw.length, "the client's bytes, untouched");
  const [row] = pool.query("SELECT upstream_protocol FROM requests");
  assert.equal(row.upstream_protocol, "anthropic");
});

Deno.test("an Anthropic client's stream cut mid-tool-call ends with an error event, never message_stop", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  const toml = mockProvidersToml(mock.url).split("[providers.mockant]")[0];
  await using pool = await startEggPool({ dir: tmp.path, toml });
  // The tool call's first chunk and two argument deltas, then the connection is cut.
  mock.script.set("sk-mockoai-key-1", { dropAfterFrames: 3, frameDelayMs: 5 });
  const res = await postJson(pool.origin, "/v1/messages", {
    model: "mock-small",
    max_tokens: 64,
    stream: true,
    tools: [{ name: "weather", input_schema: WEATHER.function.parameters }],
    messages: [{ role: "user", content: "use the tool for Oslo" }],
  });
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.ok(text.includes("event: content_block_start"), "the tool block had started");
  assert.ok(text.includes('"input_json_delta"'));
  assert.ok(!text.includes("message_stop"));
  const last = text.trim().split("\n\n").at(-1)!;
  assert.equal(last.split("\n")[0], "event: error");
  assert.equal(JSON.parse(last.split("\n")[1].slice(6)).error.type, "api_error");
  const [row] = pool.query("SELECT status, client_protocol, upstream_protocol FROM requests");
  assert.deepEqual({ ...row }, {
    status: "error",
    client_protocol: "anthropic",
    upstream_protocol: "openai",
  });
});

Deno.test("prefer_native = false ranks native and transcoded accounts together", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: "[transcoder]\nprefer_native = false\n" + mockProvidersToml(mock.url),
  });
  for (let i = 0; i < 4; i++) {
    const res = await postJson(pool.origin, "/v1/messages", {
      model: "mock-small",
      max_tokens: 16,
      messages: [{ role: "user", content: `turn ${i}` }],
    });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).type, "message");
  }
  const routes = new Set(completions(mock).map((r) => r.route));
  assert.deepEqual([...routes].sort(), ["chat_completions", "messages"]);
  const rows = pool.query("SELECT DISTINCT upstream_protocol AS p FROM requests ORDER BY p");
  assert.deepEqual(rows.map((r) => r.p), ["anthropic", "openai"]);
});
