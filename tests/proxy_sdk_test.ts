/** EggPool driven by the official OpenAI and Anthropic SDKs, against the mock upstream. */
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, mockProvidersToml, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const WEATHER_TOOL = {
  type: "object" as const,
  properties: { city: { type: "string" } },
  required: ["city"],
};

/** Requests the mock saw, minus the model-list fetches EggPool makes at startup. */
function calls<T extends { route: string }>(mock: { requests: T[] }): T[] {
  return mock.requests.filter((r) => r.route !== "models");
}

async function setup(tmp: string) {
  const mock = await startMockUpstream({ models: ["mock-small", "mock-large"] });
  const pool = await startEggPool({ dir: tmp, toml: mockProvidersToml(mock.url) });
  const openai = new OpenAI({ baseURL: `${pool.origin}/v1`, apiKey: LOCAL_KEY, maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: pool.origin, apiKey: LOCAL_KEY, maxRetries: 0 });
  return { mock, pool, openai, anthropic };
}

Deno.test("OpenAI SDK: chat completion passes through and its stats row matches the usage", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, openai } = await setup(tmp.path);
  await using _m = mock;
  await using _p = pool;
  const res = await openai.chat.completions.create({
    model: "mock-small/mockoai",
    messages: [{ role: "user", content: "hello pool" }],
  });
  assert.equal(res.choices[0].message.content, "echo: hello pool");
  const [seen] = calls(mock);
  assert.equal(seen.key, "sk-mockoai-key-1");
  assert.equal(seen.model, "mock-small", "the provider suffix is removed upstream");
  assert.equal(seen.headers["authorization"], "Bearer sk-mockoai-key-1");
  const [row] = pool.query("SELECT * FROM requests");
  assert.equal(row.status, "completed");
  assert.equal(row.status_code, 200);
  assert.equal(row.model_id, "mock-small");
  assert.equal(row.provider_id, "mockoai");
  assert.equal(row.requested_model, "mock-small/mockoai");
  assert.equal(row.streamed, 0);
  assert.equal(row.input_tokens, res.usage!.prompt_tokens);
  assert.equal(row.output_tokens, res.usage!.completion_tokens);
  assert.ok(Number(row.cost_microdollars) > 0);
  assert.equal(row.attempt_count, 1);
});

Deno.test("OpenAI SDK: a stream arrives intact, without the usage chunk it did not ask for", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, openai } = await setup(tmp.path);
  await using _m = mock;
  await using _p = pool;
  const stream = await openai.chat.completions.create({
    model: "mock-large/mockoai",
    messages: [{ role: "user", content: "stream this back to me please" }],
    stream: true,
  });
  let text = "";
  let usageChunks = 0;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? "";
    if (chunk.usage) usageChunks++;
  }
  assert.equal(text, "echo: stream this back to me please");
  assert.equal(usageChunks, 0);
  const upstreamBody = calls(mock)[0].body as { stream_options?: { include_usage?: boolean } };
  assert.equal(upstreamBody.stream_options?.include_usage, true, "EggPool asks upstream for usage");
  const [row] = pool.query("SELECT * FROM requests");
  assert.equal(row.status, "completed");
  assert.equal(row.streamed, 1);
  assert.equal(row.input_tokens, calls(mock)[0].usage!.inputTokens);
  assert.equal(row.output_tokens, calls(mock)[0].usage!.outputTokens);
  assert.ok(Number(row.first_byte_ms) >= 0);
});

Deno.test("OpenAI SDK: a streamed tool call is assembled by the SDK", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, openai } = await setup(tmp.path);
  await using _m = mock;
  await using _p = pool;
  const stream = openai.chat.completions.stream({
    model: "mock-small/mockoai",
    messages: [{ role: "user", content: "use the tool for Oslo" }],
    tools: [{ type: "function", function: { name: "weather", parameters: WEATHER_TOOL } }],
    stream_options: { include_usage: true },
  });
  const final = await stream.finalChatCompletion();
  const call = final.choices[0].message.tool_calls![0];
  assert.equal(call.type, "function");
  assert.equal((call as { function: { name: string } }).function.name, "weather");
  const args = JSON.parse((call as { function: { arguments: string } }).function.arguments);
  assert.equal(typeof args.city, "string");
  assert.ok(final.usage, "the client asked for usage and gets it");
  const [row] = pool.query("SELECT input_tokens, output_tokens FROM requests");
  assert.equal(row.output_tokens, final.usage!.completion_tokens);
});

Deno.test("Anthropic SDK: messages, streaming with a tool_use block, and cache tokens recorded", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, anthropic } = await setup(tmp.path);
  mock.configure({ cache: "prefix" });
  await using _m = mock;
  await using _p = pool;
  const first = await anthropic.messages.create({
    model: "mock-small",
    max_tokens: 256,
    system: "You are a careful assistant with a long system prompt ".repeat(20),
    tools: [{ name: "weather", description: "weather", input_schema: WEATHER_TOOL }],
    messages: [{ role: "user", content: "first turn" }],
  });
  assert.equal(first.content[0].type, "text");
  assert.equal(calls(mock)[0].headers["x-api-key"], "sk-mockant-key-1");
  assert.equal(calls(mock)[0].headers["authorization"], undefined);
  assert.equal(calls(mock)[0].headers["anthropic-version"], "2023-06-01");

  const stream = anthropic.messages.stream({
    model: "mock-small",
    max_tokens: 256,
    system: "You are a careful assistant with a long system prompt ".repeat(20),
    tools: [{ name: "weather", description: "weather", input_schema: WEATHER_TOOL }],
    messages: [
      { role: "user", content: "first turn" },
      { role: "assistant", content: "ok" },
      { role: "user", content: "use the tool for Bergen" },
    ],
  });
  const message = await stream.finalMessage();
  const toolUse = message.content.find((b) => b.type === "tool_use");
  assert.ok(toolUse && toolUse.type === "tool_use");
  assert.equal(typeof (toolUse.input as { city: string }).city, "string");
  const rows = pool.query("SELECT * FROM requests ORDER BY started_at, id");
  assert.equal(rows.length, 2);
  assert.equal(rows[1].streamed, 1);
  assert.equal(rows[1].status, "completed");
  assert.equal(rows[1].provider_id, "mockant");
  assert.equal(rows[1].cache_read_tokens, message.usage.cache_read_input_tokens);
  assert.equal(rows[1].input_tokens, message.usage.input_tokens);
  assert.equal(rows[1].output_tokens, message.usage.output_tokens);
  assert.ok(Number(rows[1].cache_read_tokens) > 0, "the second turn hits the prefix cache");
});

Deno.test("models list: one model/provider id per pair", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, openai } = await setup(tmp.path);
  await using _m = mock;
  await using _p = pool;
  const ids: string[] = [];
  for await (const m of openai.models.list()) ids.push(m.id);
  assert.deepEqual(ids.sort(), [
    "mock-large/mockant",
    "mock-large/mockoai",
    "mock-small/mockant",
    "mock-small/mockoai",
  ]);
});
