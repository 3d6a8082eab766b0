/**
 * `POST /v1/responses` with the real OpenAI SDK (`responses.create` and
 * `responses.stream`) through EggPool to a loopback mock upstream that speaks
 * only Chat Completions (or only Messages), issue #15.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import type { MockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, oneProtocolToml, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

type Obj = Record<string, unknown>;

const WEATHER = {
  type: "object",
  properties: { city: { type: "string" } },
  required: ["city"],
};

async function setup(tmp: string, protocol: "openai" | "anthropic" = "openai", extra = "") {
  const mock = await startMockUpstream({ models: ["mock-small"] });
  const pool = await startEggPool({ dir: tmp, toml: oneProtocolToml(mock.url, protocol, extra) });
  const client = new OpenAI({ baseURL: `${pool.origin}/v1`, apiKey: LOCAL_KEY, maxRetries: 0 });
  return { mock, pool, client };
}

function completions(mock: MockUpstream) {
  return mock.requests.filter((r) => r.route !== "models");
}

Deno.test("responses.create: text answer as a Response object, developer role and instructions as system", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, client } = await setup(tmp.path);
  await using _m = mock;
  await using _p = pool;
  const res = await client.responses.create({
    model: "mock-small",
    instructions: "Be brief.",
    input: [
      { role: "developer", content: "Answer in English." },
      { role: "user", content: [{ type: "input_text", text: "hello responses" }] },
    ],
    store: false,
  });
  assert.equal(res.object, "response");
  assert.match(res.id, /^resp_/);
  assert.equal(res.status, "completed");
  assert.equal(res.output_text, "echo: hello responses");
  assert.equal(res.output.length, 1);
  const msg = res.output[0] as OpenAI.Responses.ResponseOutputMessage;
  assert.equal(msg.type, "message");
  assert.equal(msg.role, "assistant");
  assert.deepEqual(msg.content.map((c) => c.type), ["output_text"]);

  const [seen] = completions(mock);
  assert.equal(seen.route, "chat_completions");
  const body = seen.body as Obj;
  assert.deepEqual(body.messages, [
    { role: "system", content: "Be brief." },
    { role: "system", content: "Answer in English." },
    { role: "user", content: "hello responses" },
  ]);
  const usage = seen.usage!;
  assert.equal(res.usage!.input_tokens, usage.inputTokens);
  assert.equal(res.usage!.output_tokens, usage.outputTokens);
  assert.equal(res.usage!.total_tokens, usage.inputTokens + usage.outputTokens);

  const [row] = pool.query("SELECT * FROM requests");
  assert.equal(row.client_protocol, "openai");
  assert.equal(row.upstream_protocol, "openai");
  assert.equal(row.status, "completed");
  assert.equal(row.streamed, 0);
  assert.equal(row.input_tokens, usage.inputTokens);
  assert.equal(row.output_tokens, usage.outputTokens);
});

Deno.test("responses.stream: the event sequence, text deltas and usage in response.completed", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, client } = await setup(tmp.path);
  await using _m = mock;
  await using _p = pool;
  mock.configure({ reasoningTokens: 5 });
  const stream = client.responses.stream({
    model: "mock-small",
    input: "stream me a reply across",
  });
  const types: string[] = [];
  let deltas = "";
  const seqs: number[] = [];
  for await (const ev of stream) {
    types.push(ev.type);
    seqs.push(ev.sequence_number);
    if (ev.type === "response.output_text.delta") deltas += ev.delta;
  }
  const final = await stream.finalResponse();
  assert.equal(deltas, "echo: stream me a reply across");
  assert.equal(final.output_text, deltas);
  assert.equal(final.status, "completed");
  const distinct = types.filter((t, i) => t !== types[i - 1]);
  assert.deepEqual(distinct, [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
  ]);
  assert.ok(
    types.filter((t) => t === "response.output_text.delta").length > 1,
    "streamed in pieces",
  );
  assert.deepEqual(seqs, seqs.map((_, i) => i), "sequence numbers count up from 0");
  const [seen] = completions(mock);
  assert.equal((seen.body as Obj).stream, true);
  assert.deepEqual((seen.body as Obj).stream_options, { include_usage: true });
  assert.equal(final.usage!.output_tokens, seen.usage!.outputTokens);
  assert.equal(final.usage!.input_tokens, seen.usage!.inputTokens);
  assert.equal(final.usage!.output_tokens_details.reasoning_tokens, 5);
  const [row] = pool.query("SELECT * FROM requests");
  assert.equal(row.status, "completed");
  assert.equal(row.streamed, 1);
  assert.equal(row.output_tokens, seen.usage!.outputTokens);
});

Deno.test("function tool round trip over two turns: call ids survive, the output goes back as a tool message", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, client } = await setup(tmp.path);
  await using _m = mock;
  await using _p = pool;
  const tools: OpenAI.Responses.Tool[] = [
    { type: "function", name: "weather", parameters: WEATHER, strict: false },
  ];
  const first = client.responses.stream({
    model: "mock-small",
    input: "use the tool for Oslo",
    tools,
  });
  let argDeltas = "";
  const types: string[] = [];
  for await (const ev of first) {
    types.push(ev.type);
    if (ev.type === "response.function_call_arguments.delta") argDeltas += ev.delta;
  }
  const turn1 = await first.finalResponse();
  const call = turn1.output.find((o) => o.type === "function_call") as
    | OpenAI.Responses.ResponseFunctionToolCall
    | undefined;
  assert.ok(call, `a function_call item in ${JSON.stringify(turn1.output)}`);
  assert.equal(call.name, "weather");
  assert.equal(call.arguments, argDeltas);
  assert.equal(typeof JSON.parse(call.arguments).city, "string");
  assert.ok(types.includes("response.function_call_arguments.done"));
  const [seen1] = completions(mock);
  assert.deepEqual((seen1.body as Obj).tools, [
    { type: "function", function: { name: "weather", parameters: WEATHER, strict: false } },
  ]);

  const turn2 = await client.responses.create({
    model: "mock-small",
    input: [
      { role: "user", content: "use the tool for Oslo" },
      { type: "function_call", call_id: call.call_id, name: call.name, arguments: call.arguments },
      { type: "function_call_output", call_id: call.call_id, output: "sunny, 21 C" },
    ],
    tools,
  });
  assert.equal(turn2.status, "completed");
  assert.ok(turn2.output_text.length > 0);
  const seen2 = completions(mock)[1].body as Obj;
  assert.deepEqual(seen2.messages, [
    { role: "user", content: "use the tool for Oslo" },
    {
      role: "assistant",
      content: null,
      tool_calls: [{
        id: call.call_id,
        type: "function",
        function: { name: "weather", arguments: call.arguments },
      }],
    },
    { role: "tool", tool_call_id: call.call_id, content: "sunny, 21 C" },
  ]);
  const rows = pool.query("SELECT status, streamed FROM requests ORDER BY started_at, id");
  assert.deepEqual(rows.map((r) => [r.status, r.streamed]), [["completed", 1], ["completed", 0]]);
});

Deno.test("a custom tool comes back as custom_tool_call; hosted web_search is dropped with the warning header", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, client } = await setup(tmp.path);
  await using _m = mock;
  await using _p = pool;
  mock.configure({ toolCall: { name: "apply_patch", arguments: { input: "*** Begin Patch" } } });
  const { data, response } = await client.responses.create({
    model: "mock-small",
    input: "patch the file",
    tools: [
      { type: "custom", name: "apply_patch", description: "Apply a patch" },
      { type: "web_search" },
    ],
  }).withResponse();
  assert.equal(
    response.headers.get("x-proxy-transcode-warnings"),
    "tools[1].type=web_search (unsupported)",
  );
  const item = data.output[0] as OpenAI.Responses.ResponseCustomToolCall;
  assert.equal(item.type, "custom_tool_call");
  assert.equal(item.name, "apply_patch");
  assert.equal(item.input, "*** Begin Patch");
  assert.match(item.call_id, /^call_/);
  const sent = completions(mock)[0].body as Obj;
  const tools = sent.tools as Obj[];
  assert.equal(tools.length, 1, "web_search never reaches the chat upstream");
  const fn = tools[0].function as Obj;
  assert.equal(fn.name, "apply_patch");
  assert.deepEqual((fn.parameters as Obj).required, ["input"]);

  // Streamed, the same call arrives whole in custom_tool_call_input events.
  const stream = client.responses.stream({
    model: "mock-small",
    input: "patch it again",
    tools: [{ type: "custom", name: "apply_patch" }, { type: "web_search" }],
  });
  const types: string[] = [];
  for await (const ev of stream) types.push(ev.type);
  const final = await stream.finalResponse();
  const streamed = final.output[0] as OpenAI.Responses.ResponseCustomToolCall;
  assert.equal(streamed.type, "custom_tool_call");
  assert.equal(streamed.input, "*** Begin Patch");
  assert.ok(types.includes("response.custom_tool_call_input.done"));
  assert.equal(types.at(-1), "response.completed");

  // The history carries the custom call and its output back as a tool exchange.
  await client.responses.create({
    model: "mock-small",
    input: [
      { role: "user", content: "patch the file" },
      { type: "custom_tool_call", call_id: item.call_id, name: "apply_patch", input: item.input },
      { type: "custom_tool_call_output", call_id: item.call_id, output: "Done!" },
    ],
    tools: [{ type: "custom", name: "apply_patch" }],
  });
  const third = completions(mock)[2].body as { messages: Obj[] };
  const assistant = third.messages[1].tool_calls as Obj[];
  assert.deepEqual(assistant[0].function, {
    name: "apply_patch",
    arguments: JSON.stringify({ input: "*** Begin Patch" }),
  });
  assert.deepEqual(third.messages[2], {
    role: "tool",
    tool_call_id: item.call_id,
    content: "Done!",
  });
  assert.equal(pool.query("SELECT * FROM requests WHERE status = 'completed'").length, 3);
});

Deno.test("requests that need server-side state get a 400 naming the field, recorded in the stats", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, client } = await setup(tmp.path);
  await using _m = mock;
  await using _p = pool;
  const cases: [string, Obj][] = [
    ["previous_response_id", { previous_response_id: "resp_123" }],
    ["conversation", { conversation: "conv_1" }],
    ["background", { background: true }],
    ["store", { store: true }],
  ];
  for (const [field, extra] of cases) {
    const err = await client.responses.create({
      model: "mock-small",
      input: "hi",
      ...extra,
    } as OpenAI.Responses.ResponseCreateParamsNonStreaming).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(err instanceof OpenAI.BadRequestError, `${field}: ${err}`);
    assert.equal(err.param, field);
    assert.equal((err.error as Obj).type, "invalid_request_error");
    assert.match(err.message, new RegExp(`${field}.*stateless`));
  }
  assert.equal(completions(mock).length, 0, "no upstream saw them");
  const rows = pool.query("SELECT status, status_code FROM requests");
  assert.equal(rows.length, cases.length);
  for (const r of rows) assert.deepEqual([r.status, r.status_code], ["client_error", 400]);
});

Deno.test("a stream cut mid-answer ends with response.failed, never response.completed", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, client } = await setup(tmp.path);
  await using _m = mock;
  await using _p = pool;
  mock.configure({ streamPieceChars: 2 });
  mock.script.set("*", { dropAfterFrames: 6 });
  const stream = client.responses.stream({
    model: "mock-small",
    input: "a long answer that the upstream will never finish sending",
  });
  const events: OpenAI.Responses.ResponseStreamEvent[] = [];
  for await (const ev of stream) events.push(ev);
  const types = events.map((e) => e.type);
  assert.ok(types.includes("response.output_text.delta"), "some text reached the client");
  assert.equal(types.at(-1), "response.failed");
  assert.ok(!types.includes("response.completed"));
  const failed = events.at(-1) as OpenAI.Responses.ResponseFailedEvent;
  assert.equal(failed.response.status, "failed");
  assert.match(failed.response.error!.message, /closed the stream/);
  const [row] = pool.query("SELECT status FROM requests");
  assert.notEqual(row.status, "completed");
});

Deno.test("max_output_tokens reached: status incomplete with reason max_output_tokens, streamed and not", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, client } = await setup(tmp.path);
  await using _m = mock;
  await using _p = pool;
  const input = "please give a long answer that cannot fit in two tokens";
  const res = await client.responses.create({ model: "mock-small", input, max_output_tokens: 2 });
  assert.equal(res.status, "incomplete");
  assert.deepEqual(res.incomplete_details, { reason: "max_output_tokens" });
  assert.equal((completions(mock)[0].body as Obj).max_tokens, 2);
  const stream = client.responses.stream({ model: "mock-small", input, max_output_tokens: 2 });
  const types: string[] = [];
  for await (const ev of stream) types.push(ev.type);
  assert.equal(types.at(-1), "response.incomplete");
  const final = await stream.finalResponse();
  assert.equal(final.status, "incomplete");
  assert.equal(final.incomplete_details?.reason, "max_output_tokens");
});

Deno.test('loss_policy = "reject": a hosted tool makes a 400 that names it', async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, client } = await setup(
    tmp.path,
    "openai",
    '[transcoder]\nloss_policy = "reject"',
  );
  await using _m = mock;
  await using _p = pool;
  const err = await client.responses.create({
    model: "mock-small",
    input: "search something",
    tools: [{ type: "web_search" }],
  }).then(() => undefined, (e) => e);
  assert.ok(err instanceof OpenAI.BadRequestError, String(err));
  assert.equal(err.param, "tools[0].type=web_search");
  assert.match(err.message, /without losing information/);
  assert.equal(completions(mock).length, 0);
});

Deno.test("an Anthropic-only account serves /v1/responses through both translators", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, client } = await setup(tmp.path, "anthropic");
  await using _m = mock;
  await using _p = pool;
  const res = await client.responses.create({ model: "mock-small", input: "hello anthropic" });
  assert.equal(res.output_text, "echo: hello anthropic");
  const stream = client.responses.stream({
    model: "mock-small",
    input: "use the tool for Oslo",
    tools: [{ type: "function", name: "weather", parameters: WEATHER, strict: false }],
  });
  const final = await stream.finalResponse();
  const call = final.output.at(-1) as OpenAI.Responses.ResponseFunctionToolCall;
  assert.equal(call.type, "function_call", JSON.stringify(final.output));
  assert.match(call.call_id, /^toolu_/, "the Anthropic tool id travels as the call id");
  assert.equal(call.name, "weather");
  assert.equal(typeof JSON.parse(call.arguments).city, "string");
  assert.ok(final.usage!.output_tokens > 0);
  const seen = completions(mock);
  assert.deepEqual(seen.map((s) => s.route), ["messages", "messages"]);
  const rows = pool.query("SELECT client_protocol, upstream_protocol, status FROM requests");
  assert.deepEqual(rows.map((r) => [r.client_protocol, r.upstream_protocol, r.status]), [
    ["openai", "anthropic", "completed"],
    ["openai", "anthropic", "completed"],
  ]);
});

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

Deno.test("a client that leaves a Responses stream mid-answer aborts the upstream and gets one row", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool } = await setup(tmp.path);
  await using _m = mock;
  await using _p = pool;
  mock.configure({ streamPieceChars: 3 });
  mock.script.set("*", { stallAfterFrames: 5 });
  const client = new AbortController();
  const res = await fetch(`${pool.origin}/v1/responses`, {
    method: "POST",
    headers: { authorization: `Bearer ${LOCAL_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({
      model: "mock-small",
      input: "a reply that stalls",
      stream: true,
      tools: [{ type: "web_search" }],
    }),
    signal: client.signal,
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type")?.includes("text/event-stream"), true);
  assert.equal(
    res.headers.get("x-proxy-transcode-warnings"),
    "tools[0].type=web_search (unsupported)",
  );
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assert.match(first, /^event: response\.created\n/);
  client.abort();
  await reader.cancel().catch(() => {});
  await waitFor(() => completions(mock)[0]?.aborted === true, "the upstream fetch to be aborted");
  await waitFor(
    () => pool.query("SELECT 1 FROM requests WHERE status != 'pending'").length === 1,
    "the row",
  );
  const rows = pool.query("SELECT status, status_code, error_class FROM requests");
  assert.deepEqual(rows.map((r) => ({ ...r })), [
    { status: "cancelled", status_code: 499, error_class: "client_disconnected" },
  ]);
});

Deno.test("an upstream error comes back in OpenAI's envelope, as the SDK reads it", async () => {
  await using tmp = await withTmpDir();
  const { mock, pool, client } = await setup(tmp.path);
  await using _m = mock;
  await using _p = pool;
  mock.script.set("*", { status: 400, message: "context too long for this model" });
  const err = await client.responses.create({ model: "mock-small", input: "hi" }).then(
    () => undefined,
    (e) => e,
  );
  assert.ok(err instanceof OpenAI.BadRequestError, String(err));
  assert.match(err.message, /context too long for this model/);
  const [row] = pool.query("SELECT status, status_code FROM requests");
  assert.deepEqual([row.status, row.status_code], ["client_error", 400]);
});
