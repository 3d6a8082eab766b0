/**
 * Stream golden pairs: an upstream event sequence as the providers document
 * it, and the frames the client must get, fed whole and split at every byte.
 */
import assert from "node:assert/strict";
import { SseScanner } from "../src/proxy/sse.ts";
import { createStreamTranslator } from "../src/proxy/translate/stream.ts";
import type { TranslationContext } from "../src/proxy/translate/types.ts";

const DECODER = new TextDecoder();

function sse(events: [string | undefined, unknown][]): string {
  return events.map(([name, data]) =>
    `${name ? `event: ${name}\n` : ""}data: ${
      typeof data === "string" ? data : JSON.stringify(data)
    }\n\n`
  ).join("");
}

/** Runs `wire` through a translator in the given pieces; returns the client's text. */
function translate(
  from: "openai" | "anthropic",
  ctx: TranslationContext,
  pieces: string[],
  clean = true,
): string {
  const t = createStreamTranslator(from, ctx);
  const scanner = new SseScanner((f) => t.onFrame(f));
  let out = "";
  const enc = new TextEncoder();
  for (const p of pieces) {
    scanner.push(enc.encode(p));
    out += DECODER.decode(t.take());
  }
  scanner.end();
  out += DECODER.decode(t.take());
  if (clean) out += DECODER.decode(t.finish());
  return out;
}

/** Client frames as `[event, data]`, with volatile fields (`created`) removed. */
function frames(text: string): [string | undefined, unknown][] {
  const out: [string | undefined, unknown][] = [];
  for (const block of text.split("\n\n")) {
    if (block.trim() === "") continue;
    let event: string | undefined;
    let data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      if (line.startsWith("data: ")) data = line.slice(6);
    }
    const parsed = data === "[DONE]" ? data : JSON.parse(data);
    if (typeof parsed === "object") delete parsed.created;
    out.push([event, parsed]);
  }
  return out;
}

function everySplit(from: "openai" | "anthropic", ctx: TranslationContext, wire: string) {
  const whole = translate(from, ctx, [wire]);
  const expected = frames(whole);
  for (let i = 1; i < wire.length; i += 7) {
    const split = translate(from, ctx, [wire.slice(0, i), wire.slice(i)]);
    assert.deepEqual(frames(split), expected, `split at ${i}`);
  }
  return whole;
}

const ANTHROPIC_TOOL_STREAM = sse([
  ["message_start", {
    type: "message_start",
    message: {
      id: "msg_01",
      type: "message",
      role: "assistant",
      model: "claude-x",
      content: [],
      stop_reason: null,
      usage: { input_tokens: 25, cache_read_input_tokens: 100, output_tokens: 1 },
    },
  }],
  ["ping", { type: "ping" }],
  ["content_block_start", {
    type: "content_block_start",
    index: 0,
    content_block: { type: "thinking", thinking: "" },
  }],
  ["content_block_delta", {
    type: "content_block_delta",
    index: 0,
    delta: { type: "thinking_delta", thinking: "Need weather." },
  }],
  ["content_block_delta", {
    type: "content_block_delta",
    index: 0,
    delta: { type: "signature_delta", signature: "sig" },
  }],
  ["content_block_stop", { type: "content_block_stop", index: 0 }],
  ["content_block_start", {
    type: "content_block_start",
    index: 1,
    content_block: { type: "text", text: "" },
  }],
  ["content_block_delta", {
    type: "content_block_delta",
    index: 1,
    delta: { type: "text_delta", text: "Checking Oslo." },
  }],
  ["content_block_stop", { type: "content_block_stop", index: 1 }],
  ["content_block_start", {
    type: "content_block_start",
    index: 2,
    content_block: { type: "tool_use", id: "toolu_01", name: "weather", input: {} },
  }],
  ["content_block_delta", {
    type: "content_block_delta",
    index: 2,
    delta: { type: "input_json_delta", partial_json: '{"city":' },
  }],
  ["content_block_delta", {
    type: "content_block_delta",
    index: 2,
    delta: { type: "input_json_delta", partial_json: '"Oslo"}' },
  }],
  ["content_block_stop", { type: "content_block_stop", index: 2 }],
  ["message_delta", {
    type: "message_delta",
    delta: { stop_reason: "tool_use", stop_sequence: null },
    usage: { output_tokens: 40 },
  }],
  ["message_stop", { type: "message_stop" }],
]);

Deno.test("Anthropic stream → OpenAI chunks: thinking, text, a tool call, finish and usage", () => {
  const text = everySplit(
    "anthropic",
    { includeUsage: true, model: "claude-x", reasoning: true },
    ANTHROPIC_TOOL_STREAM,
  );
  const base = { id: "chatcmpl-msg_01", object: "chat.completion.chunk", model: "claude-x" };
  const chunk = (delta: unknown, finish: string | null = null) => [undefined, {
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  }];
  assert.deepEqual(frames(text), [
    chunk({ role: "assistant", content: "" }),
    chunk({ reasoning: "Need weather." }),
    chunk({ content: "Checking Oslo." }),
    chunk({
      tool_calls: [{
        index: 0,
        id: "toolu_01",
        type: "function",
        function: { name: "weather", arguments: "" },
      }],
    }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }),
    chunk({}, "tool_calls"),
    [undefined, {
      ...base,
      choices: [],
      usage: {
        prompt_tokens: 125,
        completion_tokens: 40,
        total_tokens: 165,
        prompt_tokens_details: { cached_tokens: 100 },
      },
    }],
    [undefined, "[DONE]"],
  ]);
});

Deno.test("Anthropic stream → OpenAI: no usage chunk unless asked, an error event becomes an OpenAI error frame", () => {
  const ctx = { includeUsage: false, model: "claude-x" };
  const text = translate("anthropic", ctx, [ANTHROPIC_TOOL_STREAM]);
  assert.ok(!text.includes('"usage"'));
  assert.ok(!text.includes("Need weather."), "reasoning only with features.thinking");
  const failed = translate("anthropic", ctx, [sse([
    ["message_start", {
      type: "message_start",
      message: { id: "msg_2", model: "claude-x", usage: {} },
    }],
    ["error", { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }],
  ])]);
  const got = frames(failed);
  assert.deepEqual(got.at(-1), [undefined, {
    error: { message: "Overloaded", type: "api_error", param: null, code: "api_error" },
  }]);
  assert.ok(!failed.includes("[DONE]"), "an error never ends like a clean stream");
});

const OPENAI_TOOL_STREAM = sse([
  [undefined, {
    id: "chatcmpl-7",
    object: "chat.completion.chunk",
    model: "gpt-x",
    choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }],
  }],
  [undefined, {
    id: "chatcmpl-7",
    model: "gpt-x",
    choices: [{ index: 0, delta: { reasoning_content: "Two cities." }, finish_reason: null }],
  }],
  [undefined, {
    id: "chatcmpl-7",
    model: "gpt-x",
    choices: [{ index: 0, delta: { content: "Looking up." }, finish_reason: null }],
  }],
  [undefined, {
    id: "chatcmpl-7",
    model: "gpt-x",
    choices: [{
      index: 0,
      delta: {
        tool_calls: [{
          index: 0,
          id: "call_a",
          type: "function",
          function: { name: "weather", arguments: "" },
        }],
      },
      finish_reason: null,
    }],
  }],
  [undefined, {
    id: "chatcmpl-7",
    model: "gpt-x",
    choices: [{
      index: 0,
      delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":"Oslo"}' } }] },
      finish_reason: null,
    }],
  }],
  [undefined, {
    id: "chatcmpl-7",
    model: "gpt-x",
    choices: [{
      index: 0,
      delta: {
        tool_calls: [{
          index: 1,
          id: "functions.weather:1",
          type: "function",
          function: { name: "weather", arguments: '{"city":"Rome"}' },
        }],
      },
      finish_reason: null,
    }],
  }],
  [undefined, {
    id: "chatcmpl-7",
    model: "gpt-x",
    choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }],
  }],
  [undefined, {
    id: "chatcmpl-7",
    model: "gpt-x",
    choices: [],
    usage: {
      prompt_tokens: 90,
      completion_tokens: 12,
      prompt_tokens_details: { cached_tokens: 64 },
    },
  }],
  [undefined, "[DONE]"],
]);

Deno.test("OpenAI stream → Anthropic events: blocks open and close in order, parallel tool calls, usage at the end", () => {
  const text = everySplit("openai", {
    includeUsage: true,
    model: "gpt-x",
    reasoning: true,
  }, OPENAI_TOOL_STREAM);
  const ev = (type: string, data: Record<string, unknown>) => [type, { type, ...data }];
  assert.deepEqual(frames(text), [
    ev("message_start", {
      message: {
        id: "msg_chatcmpl-7",
        type: "message",
        role: "assistant",
        model: "gpt-x",
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    }),
    ev("content_block_start", {
      index: 0,
      content_block: { type: "thinking", thinking: "", signature: "" },
    }),
    ev("content_block_delta", {
      index: 0,
      delta: { type: "thinking_delta", thinking: "Two cities." },
    }),
    ev("content_block_stop", { index: 0 }),
    ev("content_block_start", { index: 1, content_block: { type: "text", text: "" } }),
    ev("content_block_delta", { index: 1, delta: { type: "text_delta", text: "Looking up." } }),
    ev("content_block_stop", { index: 1 }),
    ev("content_block_start", {
      index: 2,
      content_block: { type: "tool_use", id: "call_a", name: "weather", input: {} },
    }),
    ev("content_block_delta", {
      index: 2,
      delta: { type: "input_json_delta", partial_json: '{"city":"Oslo"}' },
    }),
    ev("content_block_stop", { index: 2 }),
    ev("content_block_start", {
      index: 3,
      content_block: {
        type: "tool_use",
        id: "toolu_x66756e6374696f6e732e776561746865723a31",
        name: "weather",
        input: {},
      },
    }),
    ev("content_block_delta", {
      index: 3,
      delta: { type: "input_json_delta", partial_json: '{"city":"Rome"}' },
    }),
    ev("content_block_stop", { index: 3 }),
    ev("message_delta", {
      delta: { stop_reason: "tool_use", stop_sequence: null },
      usage: {
        input_tokens: 26,
        output_tokens: 12,
        cache_read_input_tokens: 64,
        cache_creation_input_tokens: 0,
      },
    }),
    ev("message_stop", {}),
  ]);
});

Deno.test("OpenAI stream → Anthropic: a stream the relay ends uncleanly gets no message_stop from the translator", () => {
  const cut = OPENAI_TOOL_STREAM.slice(0, OPENAI_TOOL_STREAM.indexOf("Rome"));
  const text = translate("openai", { includeUsage: true, model: "gpt-x" }, [cut], false);
  assert.ok(text.includes("content_block_start"));
  assert.ok(!text.includes("message_stop"));
  assert.ok(!text.includes("message_delta"));
});

Deno.test("Anthropic stream → OpenAI: the tool standing in for response_format streams as content", () => {
  const wire = sse([
    ["message_start", {
      type: "message_start",
      message: { id: "msg_3", model: "claude-x", usage: { input_tokens: 9 } },
    }],
    ["content_block_start", {
      type: "content_block_start",
      index: 0,
      content_block: { type: "tool_use", id: "toolu_9", name: "reply", input: {} },
    }],
    ["content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "input_json_delta", partial_json: '{"answer":' },
    }],
    ["content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "input_json_delta", partial_json: '"42"}' },
    }],
    ["content_block_stop", { type: "content_block_stop", index: 0 }],
    ["message_delta", {
      type: "message_delta",
      delta: { stop_reason: "tool_use" },
      usage: { output_tokens: 6 },
    }],
    ["message_stop", { type: "message_stop" }],
  ]);
  const got = frames(
    translate("anthropic", { includeUsage: false, model: "claude-x", forcedTool: "reply" }, [wire]),
  );
  const deltas = got.map(([, d]) =>
    (d as { choices?: { delta: unknown; finish_reason: unknown }[] }).choices?.[0]
  );
  assert.deepEqual(deltas.map((c) => c?.delta), [
    { role: "assistant", content: "" },
    { content: '{"answer":' },
    { content: '"42"}' },
    {},
    undefined,
  ]);
  assert.equal(deltas[3]?.finish_reason, "stop");
  assert.equal(got.at(-1)![1], "[DONE]");
});
