/**
 * Contract tests of the Responses ⇄ Chat Completions translation (issue #15):
 * golden request/response pairs written from the public API references of
 * both, through the translator modules themselves.
 */
import assert from "node:assert/strict";
import { responsesToChat } from "../src/proxy/translate/responses_request.ts";
import { chatToResponse } from "../src/proxy/translate/responses_reply.ts";
import { chatToResponsesStream } from "../src/proxy/translate/responses_stream.ts";
import { ProxyError } from "../src/core/errors.ts";

type Obj = Record<string, unknown>;

/** Random ids (`resp_…`, `msg_…`, `fc_…`, `ctc_…`) replaced by stable names, in order of appearance. */
function stableIds(value: unknown): unknown {
  const seen = new Map<string, string>();
  const text = JSON.stringify(value).replace(
    /"(resp|msg|fc|ctc|rs)_[0-9a-f]{32}"/g,
    (id, kind) => {
      if (!seen.has(id)) seen.set(id, `"${kind}_${seen.size + 1}"`);
      return seen.get(id)!;
    },
  );
  return JSON.parse(text);
}

Deno.test("request golden pair: a Codex-like turn with history, tools and a reasoning item", () => {
  const t = responsesToChat({
    model: "gpt-oss-120b",
    instructions: "You are a coding agent.",
    input: [
      {
        type: "message",
        role: "developer",
        content: [{ type: "input_text", text: "Sandbox: on" }],
      },
      {
        type: "message",
        role: "user",
        content: [
          { type: "input_text", text: "Fix the bug" },
          { type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "low" },
        ],
      },
      { type: "reasoning", id: "rs_1", summary: [], encrypted_content: "opaque" },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "Looking." }] },
      { type: "function_call", call_id: "call_a", name: "shell", arguments: '{"cmd":["ls"]}' },
      { type: "function_call_output", call_id: "call_a", output: "main.ts" },
      { type: "custom_tool_call", call_id: "call_b", name: "apply_patch", input: "*** Begin" },
      { type: "custom_tool_call_output", call_id: "call_b", output: "ok" },
    ],
    tools: [
      {
        type: "function",
        name: "shell",
        description: "Run a command",
        parameters: { type: "object", properties: { cmd: { type: "array" } } },
        strict: false,
      },
      { type: "custom", name: "apply_patch", description: "Edit files" },
      { type: "web_search" },
    ],
    tool_choice: "auto",
    parallel_tool_calls: false,
    reasoning: { effort: "high", summary: "auto" },
    store: false,
    stream: true,
    include: ["reasoning.encrypted_content"],
    prompt_cache_key: "thread-1",
  }, undefined);
  assert.deepEqual(t.body, {
    model: "gpt-oss-120b",
    messages: [
      { role: "system", content: "You are a coding agent." },
      { role: "system", content: "Sandbox: on" },
      {
        role: "user",
        content: [
          { type: "text", text: "Fix the bug" },
          { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "low" } },
        ],
      },
      {
        role: "assistant",
        content: "Looking.",
        tool_calls: [{
          id: "call_a",
          type: "function",
          function: { name: "shell", arguments: '{"cmd":["ls"]}' },
        }],
      },
      { role: "tool", tool_call_id: "call_a", content: "main.ts" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{
          id: "call_b",
          type: "function",
          function: { name: "apply_patch", arguments: '{"input":"*** Begin"}' },
        }],
      },
      { role: "tool", tool_call_id: "call_b", content: "ok" },
    ],
    tools: [
      {
        type: "function",
        function: {
          name: "shell",
          description: "Run a command",
          parameters: { type: "object", properties: { cmd: { type: "array" } } },
          strict: false,
        },
      },
      {
        type: "function",
        function: {
          name: "apply_patch",
          description: "Edit files",
          parameters: {
            type: "object",
            properties: { input: { type: "string", description: "The raw input" } },
            required: ["input"],
          },
        },
      },
    ],
    tool_choice: "auto",
    parallel_tool_calls: false,
    reasoning_effort: "high",
    stream: true,
    stream_options: { include_usage: true },
  });
  assert.equal(t.warnings, "input[2] (unsupported), tools[2].type=web_search (unsupported)");
  assert.deepEqual([...t.context.customTools], ["apply_patch"]);
});

Deno.test("request: structured output and max_output_tokens map to their chat fields", () => {
  const t = responsesToChat({
    model: "m",
    input: "json please",
    max_output_tokens: 50,
    temperature: 0.2,
    text: { format: { type: "json_schema", name: "point", schema: { type: "object" } } },
    tool_choice: { type: "function", name: "f" },
    tools: [{ type: "function", name: "f", parameters: { type: "object" } }],
  }, undefined);
  assert.equal(t.body.max_tokens, 50);
  assert.equal(t.body.temperature, 0.2);
  assert.deepEqual(t.body.response_format, {
    type: "json_schema",
    json_schema: { name: "point", schema: { type: "object" } },
  });
  assert.deepEqual(t.body.tool_choice, { type: "function", function: { name: "f" } });
  assert.equal(t.warnings, undefined);
});

Deno.test("request: bad input and stateful fields are 400s that name the field", () => {
  const refuse = (body: Obj, param: string, message: RegExp) => {
    assert.throws(() => responsesToChat({ model: "m", input: "x", ...body }, undefined), (e) => {
      assert.ok(e instanceof ProxyError);
      assert.equal(e.status, 400);
      assert.equal(e.param, param);
      assert.match(e.message, message);
      return true;
    });
  };
  refuse({ previous_response_id: "resp_1" }, "previous_response_id", /stateless/);
  refuse({ conversation: {} }, "conversation", /stateless/);
  refuse({ background: true }, "background", /stateless/);
  refuse({ input: 42 }, "input", /must be a string or an array/);
  refuse({ input: [{ type: "item_reference", id: "msg_1" }] }, "input", /stored item/);
  refuse({ input: [{ type: "function_call", name: "f" }] }, "input", /call_id/);
  // Allowed as stateless: store false, background false, conversation null.
  const ok = responsesToChat(
    { model: "m", input: "x", store: false, background: false, conversation: null },
    undefined,
  );
  assert.deepEqual(ok.body.messages, [{ role: "user", content: "x" }]);
});

Deno.test("response golden pair: a chat completion with text and both kinds of tool call", () => {
  const ctx = responsesToChat({
    model: "client-model",
    input: "x",
    tools: [{ type: "function", name: "shell" }, { type: "custom", name: "apply_patch" }],
  }, undefined).context;
  const res = chatToResponse({
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1700000000,
    model: "upstream-model",
    choices: [{
      index: 0,
      finish_reason: "tool_calls",
      message: {
        role: "assistant",
        content: "Running it.",
        tool_calls: [
          { id: "call_1", type: "function", function: { name: "shell", arguments: '{"a":1}' } },
          {
            id: "call_2",
            type: "function",
            function: { name: "apply_patch", arguments: '{"input":"*** Begin Patch"}' },
          },
        ],
      },
    }],
    usage: {
      prompt_tokens: 120,
      completion_tokens: 30,
      total_tokens: 150,
      prompt_tokens_details: { cached_tokens: 100 },
      completion_tokens_details: { reasoning_tokens: 12 },
    },
  }, ctx);
  const stable = stableIds(res) as Obj;
  assert.equal(stable.id, "resp_1");
  assert.equal(stable.status, "completed");
  assert.equal(stable.model, "client-model");
  assert.equal(stable.created_at, 1700000000);
  assert.equal(stable.store, false);
  assert.deepEqual(stable.output, [
    {
      type: "message",
      id: "msg_2",
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: "Running it.", annotations: [], logprobs: [] }],
    },
    {
      type: "function_call",
      id: "fc_3",
      call_id: "call_1",
      name: "shell",
      arguments: '{"a":1}',
      status: "completed",
    },
    {
      type: "custom_tool_call",
      id: "ctc_4",
      call_id: "call_2",
      name: "apply_patch",
      input: "*** Begin Patch",
      status: "completed",
    },
  ]);
  assert.deepEqual(stable.usage, {
    input_tokens: 120,
    input_tokens_details: { cached_tokens: 100 },
    output_tokens: 30,
    output_tokens_details: { reasoning_tokens: 12 },
    total_tokens: 150,
  });
});

async function translateStream(frames: string[], ctxBody: Obj = {}): Promise<Obj[]> {
  const ctx = responsesToChat({ model: "m", input: "x", ...ctxBody }, undefined).context;
  const enc = new TextEncoder();
  const source = new ReadableStream<Uint8Array>({
    start(c) {
      for (const f of frames) c.enqueue(enc.encode(f));
      c.close();
    },
  });
  const text = await new Response(source.pipeThrough(chatToResponsesStream(ctx))).text();
  const events = text.split("\n\n").filter((b) => b !== "").map((block) => {
    const [eventLine, dataLine] = block.split("\n");
    const data = JSON.parse(dataLine.slice("data: ".length)) as Obj;
    assert.equal(eventLine, `event: ${data.type}`);
    return data;
  });
  return stableIds(events) as Obj[];
}

const chunk = (delta: Obj, finish: string | null = null) =>
  `data: ${
    JSON.stringify({ id: "c1", choices: [{ index: 0, delta, finish_reason: finish }] })
  }\n\n`;

Deno.test("stream golden pair: text then a function call, usage in response.completed", async () => {
  const events = await translateStream([
    chunk({ role: "assistant", content: "" }),
    chunk({ content: "Hi" }),
    chunk({ content: " there" }),
    chunk({
      tool_calls: [{
        index: 0,
        id: "call_9",
        type: "function",
        function: { name: "shell", arguments: "" },
      }],
    }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a"' } }] }),
    // A frame split across two chunks still makes one event.
    chunk({ tool_calls: [{ index: 0, function: { arguments: ":1}" } }] }).slice(0, 20),
    chunk({ tool_calls: [{ index: 0, function: { arguments: ":1}" } }] }).slice(20),
    chunk({}, "tool_calls"),
    `data: ${
      JSON.stringify({ id: "c1", choices: [], usage: { prompt_tokens: 5, completion_tokens: 7 } })
    }\n\n`,
    "data: [DONE]\n\n",
  ], { tools: [{ type: "function", name: "shell" }] });
  const summary = events.map((e) => {
    const { type, sequence_number: _s, response: _r, item: _i, part: _p, ...rest } = e;
    return [type, rest];
  });
  assert.deepEqual(summary, [
    ["response.created", {}],
    ["response.in_progress", {}],
    ["response.output_item.added", { output_index: 0 }],
    ["response.content_part.added", { item_id: "msg_2", output_index: 0, content_index: 0 }],
    ["response.output_text.delta", {
      item_id: "msg_2",
      output_index: 0,
      content_index: 0,
      delta: "Hi",
      logprobs: [],
    }],
    ["response.output_text.delta", {
      item_id: "msg_2",
      output_index: 0,
      content_index: 0,
      delta: " there",
      logprobs: [],
    }],
    ["response.output_text.done", {
      item_id: "msg_2",
      output_index: 0,
      content_index: 0,
      text: "Hi there",
      logprobs: [],
    }],
    ["response.content_part.done", { item_id: "msg_2", output_index: 0, content_index: 0 }],
    ["response.output_item.done", { output_index: 0 }],
    ["response.output_item.added", { output_index: 1 }],
    ["response.function_call_arguments.delta", {
      item_id: "fc_3",
      output_index: 1,
      delta: '{"a"',
    }],
    ["response.function_call_arguments.delta", { item_id: "fc_3", output_index: 1, delta: ":1}" }],
    ["response.function_call_arguments.done", {
      item_id: "fc_3",
      output_index: 1,
      name: "shell",
      arguments: '{"a":1}',
    }],
    ["response.output_item.done", { output_index: 1 }],
    ["response.completed", {}],
  ]);
  assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
  const completed = events.at(-1)!.response as Obj;
  assert.equal(completed.id, "resp_1");
  assert.equal(completed.status, "completed");
  assert.deepEqual(completed.output, [
    {
      type: "message",
      id: "msg_2",
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: "Hi there", annotations: [], logprobs: [] }],
    },
    {
      type: "function_call",
      id: "fc_3",
      call_id: "call_9",
      name: "shell",
      arguments: '{"a":1}',
      status: "completed",
    },
  ]);
  assert.deepEqual(completed.usage, {
    input_tokens: 5,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 7,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 12,
  });
});

Deno.test("stream: an error frame or a cut ends with response.failed, never completed", async () => {
  const errored = await translateStream([
    chunk({ content: "par" }),
    `data: ${
      JSON.stringify({ error: { message: "The upstream closed the stream", type: "api_error" } })
    }\n\n`,
  ]);
  const last = errored.at(-1)!;
  assert.equal(last.type, "response.failed");
  const response = last.response as Obj;
  assert.equal(response.status, "failed");
  assert.deepEqual(response.error, {
    code: "server_error",
    message: "The upstream closed the stream",
  });
  assert.ok(!errored.some((e) => e.type === "response.completed"));

  const cut = await translateStream([chunk({ content: "par" })]);
  assert.equal(cut.at(-1)!.type, "response.failed");
  assert.match(((cut.at(-1)!.response as Obj).error as Obj).message as string, /ended before/);

  const length = await translateStream([chunk({ content: "par" }, "length"), "data: [DONE]\n\n"]);
  const end = length.at(-1)!;
  assert.equal(end.type, "response.incomplete");
  assert.deepEqual((end.response as Obj).incomplete_details, { reason: "max_output_tokens" });
});

Deno.test("reasoning text becomes a reasoning item before the answer, streamed and not", async () => {
  const ctx = responsesToChat({ model: "m", input: "x" }, undefined).context;
  const whole = stableIds(chatToResponse({
    choices: [{
      index: 0,
      finish_reason: "stop",
      message: { role: "assistant", content: "42", reasoning_content: "Think: 6*7" },
    }],
  }, ctx)) as Obj;
  assert.deepEqual((whole.output as Obj[]).map((o) => o.type), ["reasoning", "message"]);
  assert.deepEqual((whole.output as Obj[])[0], {
    type: "reasoning",
    id: "rs_2",
    summary: [],
    content: [{ type: "reasoning_text", text: "Think: 6*7" }],
  });

  const events = await translateStream([
    chunk({ reasoning: "Think" }),
    chunk({ reasoning: ": 6*7" }),
    chunk({ content: "42" }, "stop"),
    "data: [DONE]\n\n",
  ]);
  const types = events.map((e) => e.type);
  assert.deepEqual(types.slice(2, 9), [
    "response.output_item.added",
    "response.content_part.added",
    "response.reasoning_text.delta",
    "response.reasoning_text.delta",
    "response.reasoning_text.done",
    "response.content_part.done",
    "response.output_item.done",
  ]);
  assert.equal(events[6].text, "Think: 6*7");
  const done = events.at(-1)!.response as Obj;
  assert.deepEqual((done.output as Obj[]).map((o) => o.type), ["reasoning", "message"]);
  assert.equal(((done.output as Obj[])[1].content as Obj[])[0].text, "42");
});
