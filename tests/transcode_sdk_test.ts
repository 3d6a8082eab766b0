/**
 * Real SDK clients through EggPool to a mock upstream reached only over the
 * other protocol: the OpenAI SDK against an Anthropic-only account, the
 * Anthropic SDK against an OpenAI-only account (spec 04 §7).
 */
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import type { MockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, oneProtocolToml, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const WEATHER_TOOL = {
  type: "object" as const,
  properties: { city: { type: "string" } },
  required: ["city"],
};

function completions(mock: MockUpstream) {
  return mock.requests.filter((r) => r.route !== "models");
}

async function setup(tmp: string, protocol: "openai" | "anthropic", extra = "") {
  const mock = await startMockUpstream({ models: ["mock-small"] });
  const pool = await startEggPool({ dir: tmp, toml: oneProtocolToml(mock.url, protocol, extra) });
  const openai = new OpenAI({ baseURL: `${pool.origin}/v1`, apiKey: LOCAL_KEY, maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: pool.origin, apiKey: LOCAL_KEY, maxRetries: 0 });
  return { mock, pool, openai, anthropic };
}

Deno.test("OpenAI SDK → Anthropic-only account: a chat completion is transcoded both ways", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, openai } = await setup(tmp.path, "anthropic");
  await using _m = mock;
  await using _p = pool;
  const res = await openai.chat.completions.create({
    model: "mock-small",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "hello across protocols" },
    ],
    stop: "END",
  });
  assert.equal(res.object, "chat.completion");
  assert.equal(res.choices[0].message.content, "echo: hello across protocols");
  assert.equal(res.choices[0].finish_reason, "stop");
  const [seen] = completions(mock);
  assert.equal(seen.route, "messages", "the upstream was asked over the Messages API");
  const body = seen.body as Record<string, unknown>;
  assert.deepEqual(body.system, [{ type: "text", text: "Be brief." }]);
  assert.equal(body.max_tokens, 4096, "the spec's default when the client sent none");
  assert.deepEqual(body.stop_sequences, ["END"]);
  assert.equal(seen.headers["anthropic-version"], "2023-06-01");
  assert.equal(seen.headers["x-api-key"], "sk-onlyant");
  const usage = seen.usage!;
  assert.equal(
    res.usage!.prompt_tokens,
    usage.inputTokens + usage.cacheReadTokens + usage.cacheWriteTokens,
  );
  assert.equal(res.usage!.completion_tokens, usage.outputTokens);
  const [row] = pool.query("SELECT * FROM requests");
  assert.equal(row.client_protocol, "openai");
  assert.equal(row.upstream_protocol, "anthropic");
  assert.equal(row.status, "completed");
  assert.equal(row.input_tokens, usage.inputTokens);
  assert.equal(row.output_tokens, usage.outputTokens);
});

Deno.test("OpenAI SDK → Anthropic-only account: streamed text and a streamed tool call", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, openai } = await setup(tmp.path, "anthropic");
  await using _m = mock;
  await using _p = pool;
  const stream = await openai.chat.completions.create({
    model: "mock-small",
    messages: [{ role: "user", content: "stream this across please" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  let usage: OpenAI.CompletionUsage | undefined;
  let finish: string | null | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? "";
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, "echo: stream this across please");
  assert.equal(finish, "stop");
  assert.equal(usage?.completion_tokens, completions(mock)[0].usage!.outputTokens);

  const tools = openai.chat.completions.stream({
    model: "mock-small",
    messages: [{ role: "user", content: "use the tool for Oslo" }],
    tools: [{ type: "function", function: { name: "weather", parameters: WEATHER_TOOL } }],
  });
  const final = await tools.finalChatCompletion();
  assert.equal(final.choices[0].finish_reason, "tool_calls");
  const call = final.choices[0].message.tool_calls![0] as {
    id: string;
    function: { name: string; arguments: string };
  };
  assert.equal(call.function.name, "weather");
  assert.equal(typeof JSON.parse(call.function.arguments).city, "string");
  const sent = completions(mock)[1].body as { tools: { name: string; input_schema: unknown }[] };
  assert.deepEqual(sent.tools, [{ name: "weather", input_schema: WEATHER_TOOL }]);
  const rows = pool.query(
    "SELECT status, streamed, upstream_protocol FROM requests ORDER BY started_at, id",
  );
  assert.deepEqual(rows.map((r) => [r.status, r.streamed, r.upstream_protocol]), [
    ["completed", 1, "anthropic"],
    ["completed", 1, "anthropic"],
  ]);
});

Deno.test("Anthropic SDK → OpenAI-only account: a message, then a stream with a tool_use block", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, anthropic } = await setup(tmp.path, "openai");
  await using _m = mock;
  await using _p = pool;
  const first = await anthropic.messages.create({
    model: "mock-small",
    max_tokens: 256,
    system: "You are terse.",
    messages: [{ role: "user", content: "first turn over chat" }],
  });
  assert.equal(first.type, "message");
  assert.deepEqual(first.content, [{ type: "text", text: "echo: first turn over chat" }]);
  assert.equal(first.stop_reason, "end_turn");
  const [seen] = completions(mock);
  assert.equal(seen.route, "chat_completions");
  const body = seen.body as { messages: unknown[]; max_tokens: number };
  assert.deepEqual(body.messages[0], { role: "system", content: "You are terse." });
  assert.equal(body.max_tokens, 256);
  assert.equal(seen.headers["authorization"], "Bearer sk-onlyoai");
  assert.equal(seen.headers["anthropic-version"], undefined, "Anthropic headers stay home");

  const stream = anthropic.messages.stream({
    model: "mock-small",
    max_tokens: 256,
    tools: [{ name: "weather", description: "weather", input_schema: WEATHER_TOOL }],
    messages: [{ role: "user", content: "use the tool for Bergen" }],
  });
  const message = await stream.finalMessage();
  assert.equal(message.stop_reason, "tool_use");
  const toolUse = message.content.find((b) => b.type === "tool_use");
  assert.ok(toolUse && toolUse.type === "tool_use");
  assert.equal(toolUse.name, "weather");
  assert.equal(typeof (toolUse.input as { city: string }).city, "string");
  const upstream = completions(mock)[1];
  assert.deepEqual((upstream.body as { stream_options: unknown }).stream_options, {
    include_usage: true,
  });
  assert.equal(message.usage.output_tokens, upstream.usage!.outputTokens);
  const rows = pool.query("SELECT * FROM requests ORDER BY started_at, id");
  assert.equal(rows[1].client_protocol, "anthropic");
  assert.equal(rows[1].upstream_protocol, "openai");
  assert.equal(rows[1].status, "completed");
  assert.equal(rows[1].output_tokens, upstream.usage!.outputTokens);
});

Deno.test("OpenAI SDK: /v1/models lists an Anthropic-only model, with the protocol it is served over", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, openai } = await setup(tmp.path, "anthropic");
  await using _m = mock;
  await using _p = pool;
  const page = await openai.models.list();
  const item = page.data.find((m) => m.id === "mock-small/onlyant") as
    | (OpenAI.Model & { eggpool?: { protocols?: string[] } })
    | undefined;
  assert.ok(item, `listed: ${page.data.map((m) => m.id).join(", ")}`);
  assert.deepEqual(item.eggpool?.protocols, ["anthropic"]);
  const res = await openai.chat.completions.create({
    model: item.id,
    messages: [{ role: "user", content: "by its listed id" }],
  });
  assert.equal(res.choices[0].message.content, "echo: by its listed id");
});

const PIXEL =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const VISION = "[transcoder.features]\nvision = true";

Deno.test("images cross both ways with features.vision: base64 and URL", async () => {
  await using tmp = await withTmpDir();
  {
    const { mock, pool, openai } = await setup(tmp.path, "anthropic", VISION);
    await using _m = mock;
    await using _p = pool;
    const res = await openai.chat.completions.create({
      model: "mock-small",
      messages: [{
        role: "user",
        content: [
          { type: "text", text: "describe these" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${PIXEL}` } },
          { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
        ],
      }],
    });
    assert.equal(typeof res.choices[0].message.content, "string");
    const sent = completions(mock)[0].body as { messages: { content: unknown[] }[] };
    assert.deepEqual(sent.messages[0].content.slice(1), [
      { type: "image", source: { type: "base64", media_type: "image/png", data: PIXEL } },
      { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
    ]);
  }
  await Deno.mkdir(`${tmp.path}/b`);
  const { mock, pool, anthropic } = await setup(`${tmp.path}/b`, "openai", VISION);
  await using _m = mock;
  await using _p = pool;
  const msg = await anthropic.messages.create({
    model: "mock-small",
    max_tokens: 64,
    messages: [{
      role: "user",
      content: [
        { type: "image", source: { type: "base64", media_type: "image/png", data: PIXEL } },
        { type: "image", source: { type: "url", url: "https://example.com/dog.png" } },
        { type: "text", text: "and these?" },
      ],
    }],
  });
  assert.equal(msg.content[0].type, "text");
  const sent = completions(mock)[0].body as { messages: { content: unknown[] }[] };
  assert.deepEqual(sent.messages[0].content, [
    { type: "image_url", image_url: { url: `data:image/png;base64,${PIXEL}` } },
    { type: "image_url", image_url: { url: "https://example.com/dog.png" } },
    { type: "text", text: "and these?" },
  ]);
});

Deno.test("without features.vision an image is dropped and named in the warning header", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool } = await setup(tmp.path, "anthropic");
  await using _m = mock;
  await using _p = pool;
  const res = await fetch(`${pool.origin}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${LOCAL_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "mock-small",
      messages: [{
        role: "user",
        content: [
          { type: "text", text: "what is this" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${PIXEL}` } },
        ],
      }],
    }),
  });
  assert.equal(res.status, 200);
  assert.equal(
    res.headers.get("x-proxy-transcode-warnings"),
    "messages[0].content[1] (feature_disabled)",
  );
  await res.body?.cancel();
  const sent = completions(mock)[0].body as { messages: unknown[] };
  assert.deepEqual(sent.messages, [{
    role: "user",
    content: [{ type: "text", text: "what is this" }],
  }]);
});

Deno.test("Anthropic SDK: /v1/models answers in Anthropic's list shape, OpenAI-only models included", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, anthropic, openai } = await setup(tmp.path, "openai");
  await using _m = mock;
  await using _p = pool;
  const page = await anthropic.models.list();
  assert.deepEqual(page.data.map((m) => [m.type, m.id, m.display_name]), [
    ["model", "mock-small/onlyoai", "mock-small"],
  ]);
  assert.equal(page.data[0].created_at, "1970-01-01T00:00:00Z");
  assert.equal(page.has_more, false);
  // The OpenAI shape stays for clients that do not send anthropic-version.
  const list = await openai.models.list();
  assert.equal(list.data[0].object, "model");
});
