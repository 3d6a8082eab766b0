/**
 * The Vercel AI SDK (`ai` with `@ai-sdk/openai` and `@ai-sdk/anthropic`)
 * through EggPool, each provider against an upstream of the other protocol
 * (issue #15): the OpenAI provider speaks the Responses API to EggPool, which
 * reaches an Anthropic-only mock; the Anthropic provider speaks Messages,
 * which reaches an OpenAI-only mock. `generateText` and `streamText` run one
 * tool round trip each: the model calls the tool, the SDK runs it and sends
 * the result back, the model answers. The text, the call and its result on
 * the wire, and the usage in the stats are checked.
 */
import assert from "node:assert/strict";
import { generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";
import type { LanguageModel } from "ai";
import { createOpenAI } from "@ai-sdk/openai";
import { createAnthropic } from "@ai-sdk/anthropic";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import type { MockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, startEggPool } from "./_helpers/eggpool.ts";
import type { TestEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

type Obj = Record<string, unknown>;

const ANSWER = "It is sunny in Oslo, 21 degrees.";
const PROMPT = "Please use the tool for the weather in Oslo";
/**
 * EggPool's `/v1/responses` is stateless: without `store: false` the OpenAI
 * provider refers to earlier items by id (`item_reference`) instead of
 * sending them, which EggPool refuses with a 400 naming the item.
 */
const STATELESS = { openai: { store: false } };

function toml(mockUrl: string, protocol: "openai" | "anthropic"): string {
  const id = protocol === "openai" ? "onlyoai" : "onlyant";
  const lines = [`[providers.${id}]`, `id = "${id}"`, `base_url = "${mockUrl}"`];
  lines.push(`protocols = ["${protocol}"]`);
  if (protocol === "anthropic") {
    lines.push(`[providers.${id}.auth]`, `mode = "api_key"`, `header = "x-api-key"`);
  }
  lines.push(`[[providers.${id}.accounts]]`, `name = "${id}-1"`, `api_key = "sk-${id}"`);
  return lines.join("\n") + "\n";
}

interface World extends AsyncDisposable {
  mock: MockUpstream;
  pool: TestEggPool;
  model: LanguageModel;
}

/** `client` is the SDK provider; the upstream speaks the other protocol. */
async function world(tmp: string, client: "openai" | "anthropic"): Promise<World> {
  const upstream = client === "openai" ? "anthropic" : "openai";
  const mock = await startMockUpstream({ models: ["mock-small"], reply: ANSWER });
  const pool = await startEggPool({ dir: tmp, toml: toml(mock.url, upstream) });
  const baseURL = `${pool.origin}/v1`;
  const model = client === "openai"
    ? createOpenAI({ baseURL, apiKey: LOCAL_KEY })("mock-small")
    : createAnthropic({ baseURL, apiKey: LOCAL_KEY })("mock-small");
  return {
    mock,
    pool,
    model,
    async [Symbol.asyncDispose]() {
      await pool.stop();
      await mock.close();
    },
  };
}

/** The weather tool; records what the SDK ran it with. */
function weatherTool(calls: Obj[]) {
  return tool({
    description: "Current weather of a city",
    inputSchema: jsonSchema<{ city: string }>({
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
      additionalProperties: false,
    }),
    execute: (input: { city: string }) => {
      calls.push(input);
      return Promise.resolve({ city: input.city, sky: "sunny", celsius: 21 });
    },
  });
}

/** The two upstream requests of a round trip: the call goes out, its result comes back. */
function assertRoundTrip(mock: MockUpstream, upstream: "openai" | "anthropic", city: string): void {
  const seen = mock.requests.filter((r) => r.route !== "models");
  assert.equal(seen.length, 2, "one request per step");
  assert.equal(seen[0].route, upstream === "openai" ? "chat_completions" : "messages");
  const second = seen[1].body as Obj;
  const messages = second.messages as Obj[];
  if (upstream === "openai") {
    const call = messages.find((m) => Array.isArray(m.tool_calls))!;
    const toolCall = (call.tool_calls as Obj[])[0];
    assert.equal((toolCall.function as Obj).name, "weather");
    assert.equal(JSON.parse(String((toolCall.function as Obj).arguments)).city, city);
    const result = messages.find((m) => m.role === "tool")!;
    assert.equal(result.tool_call_id, toolCall.id);
    assert.match(JSON.stringify(result.content), /sunny/);
  } else {
    const use = messages.flatMap((m) => Array.isArray(m.content) ? m.content as Obj[] : [])
      .find((b) => b.type === "tool_use")!;
    assert.equal(use.name, "weather");
    assert.equal((use.input as Obj).city, city);
    const result = messages.flatMap((m) => Array.isArray(m.content) ? m.content as Obj[] : [])
      .find((b) => b.type === "tool_result")!;
    assert.equal(result.tool_use_id, use.id);
    assert.match(JSON.stringify(result.content), /sunny/);
  }
}

/** Both steps are in the stats, completed, and their tokens add up to what the SDK reports. */
function assertUsage(
  pool: TestEggPool,
  usage: { inputTokens: number | undefined; outputTokens: number | undefined },
  streamed: boolean,
): void {
  const rows = pool.query("SELECT * FROM requests ORDER BY started_at, id");
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.equal(row.status, "completed");
    assert.equal(row.streamed, streamed ? 1 : 0);
    assert.ok(Number(row.output_tokens) > 0);
  }
  const sum = (f: (r: Obj) => number) => rows.reduce((n, r) => n + f(r), 0);
  assert.equal(
    sum((r) => Number(r.input_tokens) + Number(r.cache_read_tokens) + Number(r.cache_write_tokens)),
    usage.inputTokens,
  );
  assert.equal(sum((r) => Number(r.output_tokens)), usage.outputTokens);
}

for (const client of ["openai", "anthropic"] as const) {
  const upstream = client === "openai" ? "anthropic" : "openai";

  Deno.test(`generateText, @ai-sdk/${client} against a ${upstream}-only upstream: one tool round trip`, async () => {
    await using tmp = await withTmpDir();
    await using w = await world(tmp.path, client);
    const calls: Obj[] = [];
    const result = await generateText({
      model: w.model,
      prompt: PROMPT,
      tools: { weather: weatherTool(calls) },
      stopWhen: stepCountIs(3),
      maxRetries: 0,
      maxOutputTokens: 256,
      providerOptions: STATELESS,
    });
    assert.equal(result.text, ANSWER);
    assert.equal(result.steps.length, 2);
    assert.equal(calls.length, 1);
    const [call] = result.steps[0].toolCalls;
    assert.equal(call.toolName, "weather");
    assert.deepEqual(call.input, calls[0]);
    assert.equal(typeof calls[0].city, "string");
    assertRoundTrip(w.mock, upstream, String(calls[0].city));
    assertUsage(w.pool, result.totalUsage, false);
  });

  Deno.test(`streamText, @ai-sdk/${client} against a ${upstream}-only upstream: one tool round trip`, async () => {
    await using tmp = await withTmpDir();
    await using w = await world(tmp.path, client);
    const calls: Obj[] = [];
    const result = streamText({
      model: w.model,
      prompt: PROMPT,
      tools: { weather: weatherTool(calls) },
      stopWhen: stepCountIs(3),
      maxRetries: 0,
      maxOutputTokens: 256,
      providerOptions: STATELESS,
    });
    let streamedText = "";
    let deltas = 0;
    for await (const part of result.textStream) {
      streamedText += part;
      deltas++;
    }
    const steps = await result.steps;
    // The text stream spans both steps (an Anthropic model may say something before its call).
    assert.equal(streamedText, steps.map((s) => s.text).join(""));
    assert.ok(streamedText.endsWith(ANSWER), streamedText);
    assert.ok(deltas > 1, "the answer arrived in pieces");
    assert.equal(await result.text, ANSWER);
    assert.equal(steps.length, 2);
    assert.equal(steps[0].toolCalls[0].toolName, "weather");
    assert.equal(calls.length, 1);
    assertRoundTrip(w.mock, upstream, String(calls[0].city));
    assertUsage(w.pool, await result.totalUsage, true);
  });
}
