import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";

const WEATHER_SCHEMA = {
  type: "object",
  properties: { city: { type: "string" }, days: { type: "integer" } },
  required: ["city"],
};

function openaiClient(baseURL: string, apiKey = "k1"): OpenAI {
  return new OpenAI({ baseURL, apiKey, maxRetries: 0 });
}

function anthropicClient(baseURL: string, apiKey = "k1"): Anthropic {
  return new Anthropic({ baseURL, apiKey, maxRetries: 0 });
}

/** Reads a raw SSE body into its `data:` payloads. */
async function sseData(response: Response): Promise<string[]> {
  const text = await response.text();
  return text.split("\n").filter((line) => line.startsWith("data: ")).map((line) => line.slice(6));
}

function chatBody(extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    model: "mock-small",
    messages: [{ role: "user", content: "hello" }],
    ...extra,
  });
}

Deno.test("startMockUpstream() answers a non-streaming chat completion for the OpenAI SDK", async () => {
  await using mock = await startMockUpstream();
  const client = openaiClient(mock.url);
  const completion = await client.chat.completions.create({
    model: "mock-small",
    messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hello there" }],
  });
  assert.equal(completion.object, "chat.completion");
  assert.match(completion.id, /^chatcmpl-/);
  assert.equal(completion.model, "mock-small");
  assert.equal(completion.choices[0].message.content, "echo: hello there");
  assert.equal(completion.choices[0].finish_reason, "stop");
  const usage = completion.usage!;
  assert.ok(usage.prompt_tokens > 0);
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  assert.equal(usage.prompt_tokens_details?.cached_tokens, 0);

  const [seen] = mock.requests;
  assert.equal(seen.method, "POST");
  assert.equal(seen.path, "/v1/chat/completions");
  assert.equal(seen.key, "k1");
  assert.equal(seen.headers["authorization"], "Bearer k1");
  assert.equal(seen.model, "mock-small");
  assert.equal(seen.outcome, "completed");
  assert.equal(seen.usage?.inputTokens, usage.prompt_tokens);
});

Deno.test("startMockUpstream() streams chat chunks and a usage chunk only when include_usage is set", async () => {
  await using mock = await startMockUpstream({ reasoningTokens: 5 });
  const client = openaiClient(mock.url);
  const stream = await client.chat.completions.create({
    model: "mock-small",
    messages: [{ role: "user", content: "stream me something" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "";
  let usage: OpenAI.CompletionUsage | null | undefined;
  let finish: string | null = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? "";
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, "echo: stream me something");
  assert.equal(finish, "stop");
  assert.ok(usage);
  assert.equal(usage.completion_tokens_details?.reasoning_tokens, 5);
  assert.equal(mock.requests[0].usage?.reasoningTokens, 5);

  const raw = await fetch(`${mock.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: chatBody({ stream: true }),
  });
  const data = await sseData(raw);
  assert.equal(data.at(-1), "[DONE]");
  assert.ok(data.slice(0, -1).every((frame) => !frame.includes('"usage"')));
  assert.equal(mock.requests[1].usage, undefined);
});

Deno.test("startMockUpstream() streams a tool call the OpenAI SDK assembles and runs", async () => {
  await using mock = await startMockUpstream({ toolCall: true });
  const client = openaiClient(mock.url);
  const tools: OpenAI.ChatCompletionTool[] = [{
    type: "function",
    function: { name: "get_weather", parameters: WEATHER_SCHEMA },
  }];
  const stream = client.chat.completions.stream({
    model: "mock-small",
    messages: [{ role: "user", content: "weather in Paris?" }],
    tools,
  });
  const final = await stream.finalChatCompletion();
  const call = final.choices[0].message.tool_calls?.[0];
  assert.equal(final.choices[0].finish_reason, "tool_calls");
  assert.ok(call && call.type === "function");
  assert.equal(call.function.name, "get_weather");
  assert.deepEqual(JSON.parse(call.function.arguments), { city: "weather in Paris?", days: 42 });

  const runner = client.chat.completions.runTools({
    model: "mock-small",
    messages: [{ role: "user", content: "please use the tool" }],
    tools: [{
      type: "function",
      function: {
        name: "get_weather",
        description: "Weather for a city",
        parameters: WEATHER_SCHEMA,
        function: (args: { city: string }) => `sunny in ${args.city}`,
        parse: JSON.parse,
      },
    }],
  });
  assert.equal(await runner.finalContent(), "echo: please use the tool");
  assert.equal(mock.requests.at(-1)?.route, "chat_completions");
});

Deno.test("startMockUpstream() answers Anthropic messages, plain and streamed with a tool_use block", async () => {
  await using mock = await startMockUpstream();
  const client = anthropicClient(mock.origin);
  const message = await client.messages.create({
    model: "mock-large",
    max_tokens: 256,
    messages: [{ role: "user", content: "hi claude" }],
  });
  assert.equal(message.type, "message");
  assert.equal(message.model, "mock-large");
  assert.deepEqual(message.content, [{ type: "text", text: "echo: hi claude" }]);
  assert.equal(message.stop_reason, "end_turn");
  assert.equal(mock.requests[0].key, "k1");
  assert.equal(mock.requests[0].headers["x-api-key"], "k1");

  const stream = client.messages.stream({
    model: "mock-large",
    max_tokens: 256,
    messages: [{ role: "user", content: "Lyon: use the tool" }],
    tools: [{ name: "get_weather", input_schema: WEATHER_SCHEMA as Anthropic.Tool.InputSchema }],
  });
  const final = await stream.finalMessage();
  assert.equal(final.stop_reason, "tool_use");
  const toolUse = final.content.find((block) => block.type === "tool_use");
  assert.ok(toolUse && toolUse.type === "tool_use");
  assert.equal(toolUse.name, "get_weather");
  assert.deepEqual(toolUse.input, { city: "Lyon: use the tool", days: 42 });
  assert.equal(final.usage.output_tokens, mock.requests[1].usage?.outputTokens);
});

Deno.test("startMockUpstream() lists models in the OpenAI and the Anthropic shape", async () => {
  await using openaiMock = await startMockUpstream({ models: ["m-a", "m-b"] });
  const openaiPage = await openaiClient(openaiMock.url).models.list();
  assert.deepEqual(openaiPage.data.map((model) => model.id), ["m-a", "m-b"]);
  assert.equal(openaiPage.data[0].object, "model");

  await using anthropicMock = await startMockUpstream({
    models: ["c-1", "c-2", "c-3"],
    modelsShape: "anthropic",
  });
  const ids: string[] = [];
  for await (const model of anthropicClient(anthropicMock.origin).models.list({ limit: 2 })) {
    assert.equal(model.type, "model");
    ids.push(model.id);
  }
  assert.deepEqual(ids, ["c-1", "c-2", "c-3"]);
  assert.equal(anthropicMock.requests.length, 2);
});

Deno.test("startMockUpstream() rejects unknown keys with protocol-shaped 401s", async () => {
  await using mock = await startMockUpstream({ keys: ["good"] });
  await assert.rejects(
    openaiClient(mock.url, "bad").chat.completions.create({
      model: "mock-small",
      messages: [{ role: "user", content: "x" }],
    }),
    (error: unknown) => error instanceof OpenAI.AuthenticationError,
  );
  const response = await fetch(`${mock.url}/messages`, {
    method: "POST",
    headers: { "x-api-key": "bad", "anthropic-version": "2023-06-01" },
    body: chatBody({ max_tokens: 10 }),
  });
  assert.equal(response.status, 401);
  const body = await response.json();
  assert.equal(body.type, "error");
  assert.equal(body.error.type, "authentication_error");
});

Deno.test("FaultScript 429 with retry-after applies `times` requests, then normal behaviour resumes", async () => {
  await using mock = await startMockUpstream();
  mock.script.set("k1", { status: 429, retryAfter: 7, times: 1 });
  const send = () =>
    fetch(`${mock.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer k1" },
      body: chatBody(),
    });
  const limited = await send();
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("retry-after"), "7");
  const body = await limited.json();
  assert.equal(body.error.code, "rate_limit_exceeded");
  const ok = await send();
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  assert.deepEqual(mock.requests.map((request) => request.status), [429, 200]);
});

Deno.test("FaultScript plays a key's queue in order and `match` can target other routes", async () => {
  await using mock = await startMockUpstream();
  mock.script.set("k", { status: 500, times: 1 }, { status: 503, times: 1 });
  mock.script.set("*", { status: 401, match: (request) => request.route === "models" });
  const send = async () => {
    const response = await fetch(`${mock.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer k" },
      body: chatBody(),
    });
    await response.body?.cancel();
    return response.status;
  };
  assert.deepEqual([await send(), await send(), await send()], [500, 503, 200]);
  const models = await fetch(`${mock.url}/models`);
  assert.equal(models.status, 401);
  assert.equal((await models.json()).error.code, "invalid_api_key");
  assert.equal(mock.script.pending("k").length, 0);
});

Deno.test("FaultScript midStreamError ends a 200 stream with an error the OpenAI SDK throws", async () => {
  await using mock = await startMockUpstream();
  mock.script.set("*", { midStreamError: { afterFrames: 3, type: "server_error" } });
  const stream = await openaiClient(mock.url).chat.completions.create({
    model: "mock-small",
    messages: [{ role: "user", content: "a reply long enough for several chunks" }],
    stream: true,
  });
  let chunks = 0;
  await assert.rejects(async () => {
    for await (const _chunk of stream) chunks++;
  }, (error: unknown) => error instanceof OpenAI.APIError);
  assert.equal(chunks, 3);
  assert.equal(mock.requests[0].outcome, "error");
});

Deno.test("FaultScript delayMs notices a client that gives up before headers", async () => {
  await using mock = await startMockUpstream();
  mock.script.set("*", { delayMs: 10_000 });
  const controller = new AbortController();
  const pending = fetch(`${mock.url}/chat/completions`, {
    method: "POST",
    body: chatBody(),
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(pending);
  assert.equal(await mock.requests[0].done, "aborted");
});

Deno.test("FaultScript dropAfterFrames cuts the stream so the body read rejects", async () => {
  await using mock = await startMockUpstream();
  mock.script.set("*", { dropAfterFrames: 2 });
  const response = await fetch(`${mock.url}/chat/completions`, {
    method: "POST",
    body: chatBody({ stream: true }),
  });
  assert.equal(response.status, 200);
  await assert.rejects(response.text());
  assert.equal(await mock.requests[0].done, "dropped");
});

Deno.test("FaultScript stallAfterFrames holds the stream until the client aborts", async () => {
  await using mock = await startMockUpstream();
  mock.script.set("*", { stallAfterFrames: 1, times: 1 });
  const controller = new AbortController();
  const response = await fetch(`${mock.url}/messages`, {
    method: "POST",
    body: chatBody({ stream: true, max_tokens: 50 }),
    signal: controller.signal,
  });
  const reader = response.body!.getReader();
  const first = await reader.read();
  assert.match(new TextDecoder().decode(first.value), /^event: message_start/);
  controller.abort();
  await assert.rejects(reader.read());
  assert.equal(await mock.requests[0].done, "aborted");
  assert.equal(mock.requests[0].aborted, true);
});

Deno.test("FaultScript errorEventFirst sends a 200 stream that opens with an error event", async () => {
  await using mock = await startMockUpstream();
  mock.script.set("*", { errorEventFirst: "overloaded_error" });
  const stream = anthropicClient(mock.origin).messages.stream({
    model: "mock-small",
    max_tokens: 50,
    messages: [{ role: "user", content: "x" }],
  });
  await assert.rejects(stream.finalMessage(), (error: unknown) => {
    return error instanceof Anthropic.APIError && /overloaded_error/.test(error.message);
  });
  const raw = await fetch(`${mock.url}/chat/completions`, {
    method: "POST",
    body: chatBody({ stream: true }),
  });
  assert.equal(raw.status, 200);
  const data = await sseData(raw);
  assert.equal(data.length, 1);
  assert.equal(JSON.parse(data[0]).error.type, "overloaded_error");
});

Deno.test("FaultScript chunkSplit delivers awkward byte pieces that the SDK still reassembles", async () => {
  await using mock = await startMockUpstream({ reply: "héllo wörld ✓ done" });
  mock.script.set("*", { chunkSplit: "bytes", crlf: true });
  const final = await anthropicClient(mock.origin).messages.stream({
    model: "mock-small",
    max_tokens: 50,
    messages: [{ role: "user", content: "x" }],
  }).finalMessage();
  assert.deepEqual(final.content, [{ type: "text", text: "héllo wörld ✓ done" }]);
});

Deno.test("FaultScript delays hold headers and the first byte", async () => {
  await using mock = await startMockUpstream();
  mock.script.set("*", { delayMs: 40, firstByteDelayMs: 40 });
  const started = performance.now();
  const response = await fetch(`${mock.url}/chat/completions`, {
    method: "POST",
    body: chatBody({ stream: true }),
  });
  const headersAt = performance.now() - started;
  await response.text();
  const doneAt = performance.now() - started;
  assert.ok(headersAt >= 35, `headers after ${headersAt} ms`);
  assert.ok(doneAt - headersAt >= 35, `body after ${doneAt - headersAt} ms more`);
});

Deno.test("startMockUpstream() prefix cache credits the growing conversation of the same key only", async () => {
  await using mock = await startMockUpstream({ cache: "prefix" });
  const turn1 = [{ role: "user" as const, content: "first question ".repeat(20) }];
  const turn2 = [
    ...turn1,
    { role: "assistant" as const, content: "first answer" },
    { role: "user" as const, content: "second question" },
  ];
  const a = openaiClient(mock.url, "a");
  const first = await a.chat.completions.create({ model: "mock-small", messages: turn1 });
  assert.equal(first.usage?.prompt_tokens_details?.cached_tokens, 0);
  const second = await a.chat.completions.create({ model: "mock-small", messages: turn2 });
  const cached = second.usage?.prompt_tokens_details?.cached_tokens ?? 0;
  assert.ok(cached > 70 && cached < second.usage!.prompt_tokens, `cached ${cached}`);
  const other = await openaiClient(mock.url, "b").chat.completions.create({
    model: "mock-small",
    messages: turn2,
  });
  assert.equal(other.usage?.prompt_tokens_details?.cached_tokens, 0);

  const claude = anthropicClient(mock.origin, "a");
  const params = { model: "mock-small", max_tokens: 100, system: "You are terse." };
  await claude.messages.create({ ...params, messages: turn1 });
  const next = await claude.messages.stream({ ...params, messages: turn2 }).finalMessage();
  assert.ok((next.usage.cache_read_input_tokens ?? 0) > 70);
  assert.ok((next.usage.cache_creation_input_tokens ?? 0) > 0);
  assert.deepEqual(mock.requests.at(-1)?.usage, {
    inputTokens: next.usage.input_tokens,
    outputTokens: next.usage.output_tokens,
    cacheReadTokens: next.usage.cache_read_input_tokens,
    cacheWriteTokens: next.usage.cache_creation_input_tokens,
    reasoningTokens: 0,
  });
});

Deno.test("MockUpstream.close() ends a stalled stream instead of hanging", async () => {
  const mock = await startMockUpstream({ latency: { perFrameMs: 1 } });
  mock.script.set("*", { stallAfterFrames: 3 });
  const response = await fetch(`${mock.url}/chat/completions`, {
    method: "POST",
    body: chatBody({ stream: true }),
  });
  const reading = response.text().catch(() => "cut");
  await mock.close();
  assert.equal(await reading, "cut");
  assert.equal(mock.requests[0].outcome, "shutdown");
});
