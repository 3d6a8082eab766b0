import assert from "node:assert/strict";
import { SseScanner } from "./sse.ts";
import {
  classifyStreamEnd,
  createStreamObserver,
  errorEvent,
  hasNonNullKey,
  type Protocol,
  type StreamCompletionPolicy,
  type StreamObserver,
  usageFromJson,
} from "./usage.ts";
import {
  byteByByte,
  everySplit,
  randomSplits,
  readFixture,
  SSE_FIXTURES,
  withLineEnding,
} from "./_fixtures.ts";

function observe(
  protocol: Protocol,
  chunks: Uint8Array[],
  clock: () => number = () => 0,
): { observer: StreamObserver; scanner: SseScanner } {
  const observer = createStreamObserver(protocol, { clock });
  const scanner = new SseScanner((frame) => observer.onFrame(frame));
  for (const chunk of chunks) scanner.push(chunk);
  scanner.end();
  return { observer, scanner };
}

function summary(protocol: Protocol, chunks: Uint8Array[], policy?: StreamCompletionPolicy) {
  const { observer: o, scanner } = observe(protocol, chunks);
  return {
    usage: o.usage,
    sawPayload: o.sawPayload,
    sawContent: o.sawContent,
    terminal: o.terminal,
    errorType: o.errorType,
    errorMessage: o.errorMessage,
    finishReason: o.finishReason,
    model: o.model,
    responseId: o.responseId,
    usageComplete: o.usageComplete,
    parseErrors: o.parseErrors,
    framesAfterTerminal: o.framesAfterTerminal,
    end: classifyStreamEnd(o, scanner, policy),
  };
}

function protocolOf(fixture: string): Protocol {
  return fixture.startsWith("anthropic") ? "anthropic" : "openai";
}

const zeroUsage = {
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
  reported: false,
};

Deno.test("usageFromJson() normalizes OpenAI cached and reasoning tokens", () => {
  const usage = usageFromJson("openai", {
    id: "chatcmpl-1",
    object: "chat.completion",
    usage: {
      prompt_tokens: 1200,
      completion_tokens: 300,
      total_tokens: 1500,
      prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 256 },
    },
  });
  assert.deepEqual(usage, {
    inputTokens: 176,
    outputTokens: 300,
    cacheReadTokens: 1024,
    cacheWriteTokens: 0,
    reasoningTokens: 256,
    reported: true,
  });
});

Deno.test("usageFromJson() reads OpenAI-compatible cache spellings", () => {
  const deepseek = usageFromJson("openai", {
    usage: { prompt_tokens: 100, completion_tokens: 5, prompt_cache_hit_tokens: 60 },
  });
  assert.equal(deepseek?.inputTokens, 40);
  assert.equal(deepseek?.cacheReadTokens, 60);
  const writes = usageFromJson("openai", {
    usage: {
      prompt_tokens: 1000,
      completion_tokens: 5,
      prompt_tokens_details: { cached_tokens: 200, cache_write_tokens: 700 },
    },
  });
  assert.deepEqual(
    [writes?.inputTokens, writes?.cacheReadTokens, writes?.cacheWriteTokens],
    [100, 200, 700],
  );
  const inconsistent = usageFromJson("openai", {
    usage: { prompt_tokens: 10, prompt_tokens_details: { cached_tokens: 50 } },
  });
  assert.equal(inconsistent?.inputTokens, 0);
});

Deno.test("usageFromJson() reads Anthropic cache tokens", () => {
  const usage = usageFromJson("anthropic", {
    id: "msg_1",
    type: "message",
    usage: {
      input_tokens: 21,
      cache_creation_input_tokens: 188,
      cache_read_input_tokens: 3000,
      output_tokens: 393,
    },
  });
  assert.deepEqual(usage, {
    inputTokens: 21,
    outputTokens: 393,
    cacheReadTokens: 3000,
    cacheWriteTokens: 188,
    reasoningTokens: 0,
    reported: true,
  });
});

Deno.test("usageFromJson() uses the Anthropic input aliases and TTL split", () => {
  const usage = usageFromJson("anthropic", {
    usage: {
      input_tokens: 0,
      prompt_tokens: "42",
      output_tokens: 7,
      cache_creation: { ephemeral_5m_input_tokens: 10, ephemeral_1h_input_tokens: 5 },
    },
  });
  assert.deepEqual(
    [usage?.inputTokens, usage?.outputTokens, usage?.cacheWriteTokens],
    [42, 7, 15],
  );
});

Deno.test("usageFromJson() counts implausible values as zero and keeps them as text", () => {
  const usage = usageFromJson("openai", {
    usage: {
      prompt_tokens: -5,
      completion_tokens: 1.5,
      prompt_tokens_details: { cached_tokens: 2 ** 53 - 1 },
      completion_tokens_details: { reasoning_tokens: "lots" },
    },
  });
  assert.deepEqual({ ...usage, implausibleUsage: undefined }, {
    ...zeroUsage,
    reported: true,
    implausibleUsage: undefined,
  });
  assert.equal(
    usage?.implausibleUsage,
    "upstream reported an implausible value: prompt_tokens=-5, cached_tokens=9007199254740991, " +
      'completion_tokens=1.5, reasoning_tokens="lots"',
  );
  const huge = usageFromJson("anthropic", { usage: { output_tokens: 1e300, input_tokens: 9 } });
  assert.equal(huge?.outputTokens, 0);
  assert.equal(huge?.inputTokens, 9);
  assert.match(huge?.implausibleUsage ?? "", /output_tokens=1e\+300/);
  const long = usageFromJson("openai", { usage: { prompt_tokens: "x".repeat(10_000) } });
  assert.ok((long?.implausibleUsage?.length ?? 0) < 200, "the raw value is cut");
});

Deno.test("usageFromJson() takes digit strings and the largest plausible count", () => {
  const usage = usageFromJson("openai", {
    usage: { prompt_tokens: "120", completion_tokens: 100_000_000, total_tokens: "abc" },
  });
  assert.equal(usage?.inputTokens, 120);
  assert.equal(usage?.outputTokens, 100_000_000);
  assert.equal(usage?.implausibleUsage, undefined);
});

Deno.test("usageFromJson() returns undefined without a usage object", () => {
  assert.equal(usageFromJson("openai", { id: "x" }), undefined);
  assert.equal(usageFromJson("openai", { usage: null }), undefined);
  assert.equal(usageFromJson("anthropic", "not json"), undefined);
  assert.equal(usageFromJson("anthropic", [1, 2]), undefined);
});

Deno.test("usageFromJson() reads a provider-reported cost", () => {
  const micros = usageFromJson("openai", { usage: { prompt_tokens: 1, cost_microdollars: 1234 } });
  assert.equal(micros?.providerCostMicros, 1234);
  const dollars = usageFromJson("openai", {
    usage: { prompt_tokens: 1, billing: { total_cost_usd: "0.0025" } },
  });
  assert.equal(dollars?.providerCostMicros, 2500);
  const root = usageFromJson("anthropic", {
    usage: { input_tokens: 1 },
    billing: { cost_usd: 0.5 },
  });
  assert.equal(root?.providerCostMicros, 500_000);
  const bad = usageFromJson("openai", { usage: { cost_usd: -1, cost_micros: true } });
  assert.equal(bad?.providerCostMicros, undefined);
});

Deno.test("createStreamObserver() reads the OpenAI include_usage fixture", async () => {
  const bytes = await readFixture("openai_usage_cached_reasoning.sse");
  assert.deepEqual(summary("openai", [bytes]), {
    usage: {
      inputTokens: 230,
      outputTokens: 412,
      cacheReadTokens: 1920,
      cacheWriteTokens: 0,
      reasoningTokens: 320,
      reported: true,
    },
    sawPayload: true,
    sawContent: true,
    terminal: "done",
    errorType: undefined,
    errorMessage: undefined,
    finishReason: "stop",
    model: "o4-mini-2025-04-16",
    responseId: "chatcmpl-EggPoolFixture01",
    usageComplete: true,
    parseErrors: 0,
    framesAfterTerminal: 0,
    end: "complete",
  });
});

Deno.test("createStreamObserver() reads the OpenAI tool-call fixture", async () => {
  const s = summary("openai", [await readFixture("openai_tool_calls.sse")]);
  assert.equal(s.finishReason, "tool_calls");
  assert.equal(s.terminal, "done");
  assert.deepEqual(s.usage, {
    inputTokens: 88,
    outputTokens: 17,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    reported: true,
  });
});

Deno.test("createStreamObserver() reads the Anthropic cache and tool_use fixture", async () => {
  assert.deepEqual(summary("anthropic", [await readFixture("anthropic_cache_tool_use.sse")]), {
    usage: {
      inputTokens: 14,
      outputTokens: 89,
      cacheReadTokens: 10240,
      cacheWriteTokens: 2048,
      reasoningTokens: 0,
      reported: true,
    },
    sawPayload: true,
    sawContent: true,
    terminal: "done",
    errorType: undefined,
    errorMessage: undefined,
    finishReason: "tool_use",
    model: "claude-sonnet-4-5-20250929",
    responseId: "msg_01EggPoolFixture03",
    usageComplete: true,
    parseErrors: 0,
    framesAfterTerminal: 0,
    end: "complete",
  });
});

Deno.test("createStreamObserver() flags an overloaded_error before any content", async () => {
  const s = summary("anthropic", [await readFixture("anthropic_overloaded.sse")]);
  assert.equal(s.terminal, "error");
  assert.equal(s.sawContent, false);
  assert.equal(s.errorType, "overloaded_error");
  assert.equal(s.errorMessage, "Overloaded");
  assert.equal(s.end, "terminal_error");
  assert.deepEqual(s.usage, zeroUsage);
});

Deno.test("createStreamObserver() classifies truncated streams as failures", async () => {
  const openai = summary("openai", [await readFixture("openai_truncated.sse")]);
  assert.equal(openai.terminal, "open");
  assert.equal(openai.sawContent, true);
  assert.equal(openai.end, "malformed_eof");
  const anthropic = summary("anthropic", [await readFixture("anthropic_truncated.sse")]);
  assert.equal(anthropic.terminal, "open");
  assert.equal(anthropic.end, "premature_eof");
  assert.equal(anthropic.usage.inputTokens, 412);
  assert.equal(anthropic.usage.outputTokens, 1);
  assert.equal(anthropic.usageComplete, false);
});

Deno.test("createStreamObserver() gives the same result for every split of every fixture", async () => {
  for (const name of SSE_FIXTURES) {
    const protocol = protocolOf(name);
    const bytes = await readFixture(name);
    const expected = summary(protocol, [bytes]);
    for (const variant of [bytes, withLineEnding(bytes, "\r\n"), withLineEnding(bytes, "\r")]) {
      assert.deepEqual(summary(protocol, [variant]), expected, name);
      for (const chunks of everySplit(variant)) {
        assert.deepEqual(summary(protocol, chunks), expected, name);
      }
      for (const chunks of randomSplits(variant, 7, 40)) {
        assert.deepEqual(summary(protocol, chunks), expected, name);
      }
      assert.deepEqual(summary(protocol, byteByByte(variant)), expected, name);
    }
  }
});

Deno.test("createStreamObserver() stamps the first OpenAI content frame", () => {
  let now = 100;
  const observer = createStreamObserver("openai", { clock: () => now });
  observer.onFrame({ data: '{"id":"c","choices":[],"prompt_filter_results":[]}' });
  assert.equal(observer.sawContent, false);
  now = 250;
  observer.onFrame({ data: '{"id":"c","choices":[{"index":0,"delta":{"role":"assistant"}}]}' });
  now = 300;
  observer.onFrame({ data: '{"id":"c","choices":[{"index":0,"delta":{"content":"x"}}]}' });
  assert.equal(observer.sawContent, true);
  assert.equal(observer.firstContentAt, 250);
  assert.equal(observer.responseId, "c");
});

Deno.test("createStreamObserver() does not count Anthropic message_start or ping as content", () => {
  const observer = createStreamObserver("anthropic");
  observer.onFrame({
    event: "message_start",
    data: '{"type":"message_start","message":{"id":"m","model":"x","usage":{"input_tokens":9}}}',
  });
  observer.onFrame({ event: "ping", data: '{"type":"ping"}' });
  assert.equal(observer.sawContent, false);
  observer.onFrame({
    event: "error",
    data: '{"type":"error","error":{"type":"api_error","message":"Internal server error"}}',
  });
  assert.equal(observer.terminal, "error");
  assert.equal(observer.errorType, "api_error");
  assert.equal(observer.sawContent, false);
  assert.equal(observer.usage.inputTokens, 9);
});

Deno.test("createStreamObserver() does not double-count repeated message_delta usage", () => {
  const observer = createStreamObserver("anthropic");
  const start =
    '{"type":"message_start","message":{"usage":{"input_tokens":50,"cache_read_input_tokens":7,"output_tokens":1}}}';
  const delta = (n: number) =>
    `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":${n}}}`;
  observer.onFrame({ event: "message_start", data: start });
  observer.onFrame({ event: "message_delta", data: delta(40) });
  observer.onFrame({ event: "message_delta", data: delta(120) });
  observer.onFrame({ event: "message_delta", data: delta(120) });
  assert.deepEqual(observer.usage, {
    inputTokens: 50,
    outputTokens: 120,
    cacheReadTokens: 7,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    reported: true,
  });
  assert.equal(observer.finishReason, "end_turn");
});

Deno.test("createStreamObserver() takes input from message_delta when message_start lacks it", () => {
  const observer = createStreamObserver("anthropic");
  observer.onFrame({ data: '{"type":"message_start","message":{"id":"m","usage":{}}}' });
  observer.onFrame({
    data: '{"type":"message_delta","delta":{},"usage":{"input_tokens":31,"output_tokens":4}}',
  });
  observer.onFrame({ data: '{"type":"message_stop"}' });
  assert.equal(observer.usage.inputTokens, 31);
  assert.equal(observer.usage.outputTokens, 4);
  assert.equal(observer.terminal, "done");
});

Deno.test("createStreamObserver() treats an OpenAI error chunk as terminal", () => {
  const observer = createStreamObserver("openai");
  observer.onFrame({
    data: '{"error":{"message":"The server had an error","type":"server_error","code":null}}',
  });
  assert.equal(observer.terminal, "error");
  assert.equal(observer.errorType, "server_error");
  assert.equal(observer.errorMessage, "The server had an error");
  assert.equal(observer.sawContent, false);
  observer.onFrame({ data: "[DONE]" });
  assert.equal(observer.terminal, "error");
  assert.equal(observer.framesAfterTerminal, 1);
});

Deno.test("createStreamObserver() notices an OpenAI error after content", () => {
  const observer = createStreamObserver("openai");
  observer.onFrame({ data: '{"choices":[{"index":0,"delta":{"content":"hi"}}]}' });
  observer.onFrame({ event: "error", data: '{"message":"stream reset","code":"reset"}' });
  assert.equal(observer.terminal, "error");
  assert.equal(observer.errorType, "reset");
  assert.equal(observer.sawContent, true);
});

Deno.test("createStreamObserver() notices an OpenRouter-style error beside choices", () => {
  const observer = createStreamObserver("openai");
  observer.onFrame({ data: '{"id":"gen-1","choices":[{"index":0,"delta":{"content":"par"}}]}' });
  observer.onFrame({
    data: '{"id":"gen-1","error":{"code":502,"message":"Provider disconnected"},' +
      '"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}',
  });
  assert.equal(observer.terminal, "error");
  assert.equal(observer.errorMessage, "Provider disconnected");
  assert.equal(observer.errorType, "api_error");
});

Deno.test("createStreamObserver() counts unparseable frames", () => {
  const observer = createStreamObserver("openai");
  observer.onFrame({ data: "{not json" });
  observer.onFrame({ data: "[1,2]" });
  observer.onFrame({ data: "" });
  assert.equal(observer.parseErrors, 2);
  assert.equal(observer.sawPayload, true);
  const anthropic = createStreamObserver("anthropic");
  anthropic.onFrame({ event: "message_delta", data: "{oops" });
  anthropic.onFrame({ event: "content_block_delta", data: "{never parsed" });
  assert.equal(anthropic.parseErrors, 1);
});

Deno.test("createStreamObserver() returns a usage snapshot, not live state", () => {
  const observer = createStreamObserver("anthropic");
  observer.onFrame({ data: '{"type":"message_start","message":{"usage":{"input_tokens":3}}}' });
  const snapshot = observer.usage;
  snapshot.inputTokens = 999;
  assert.equal(observer.usage.inputTokens, 3);
});

Deno.test("classifyStreamEnd() follows the EOF table", () => {
  const clean = { endedMidFrame: false, oversizeFrames: 0 };
  const empty = createStreamObserver("openai");
  assert.equal(classifyStreamEnd(empty, clean), "empty_eof");
  assert.equal(
    classifyStreamEnd(empty, { endedMidFrame: false, oversizeFrames: 1 }),
    "malformed_eof",
  );

  const usageOnly = createStreamObserver("openai");
  usageOnly.onFrame({ data: '{"choices":[{"index":0,"delta":{"content":"x"}}]}' });
  usageOnly.onFrame({ data: '{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}' });
  assert.equal(classifyStreamEnd(usageOnly, clean), "premature_eof");
  assert.equal(classifyStreamEnd(usageOnly, clean, "compatible"), "compatibility_eof");
  assert.equal(classifyStreamEnd(usageOnly, clean, "permissive_observe"), "compatibility_eof");

  const noUsage = createStreamObserver("openai");
  noUsage.onFrame({ data: '{"choices":[{"index":0,"delta":{"content":"x"}}]}' });
  assert.equal(classifyStreamEnd(noUsage, clean, "compatible"), "premature_eof");
  assert.equal(
    classifyStreamEnd(noUsage, { endedMidFrame: true, oversizeFrames: 0 }),
    "malformed_eof",
  );
});

Deno.test("errorEvent() renders an Anthropic error event", () => {
  const bytes = errorEvent("anthropic", { type: "api_error", message: "Upstream stream stalled" });
  assert.equal(
    new TextDecoder().decode(bytes),
    'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"Upstream stream stalled"}}\n\n',
  );
});

Deno.test("errorEvent() renders an OpenAI error chunk", () => {
  const bytes = errorEvent("openai", { type: "server_error", message: 'Cut at "byte 12"' });
  assert.equal(
    new TextDecoder().decode(bytes),
    'data: {"error":{"message":"Cut at \\"byte 12\\"","type":"server_error","param":null,"code":null}}\n\n',
  );
  const coded = errorEvent("openai", { type: "timeout", message: "Idle", code: "stream_idle" });
  assert.match(new TextDecoder().decode(coded), /"code":"stream_idle"/);
});

Deno.test("errorEvent() output is read back as a terminal error", () => {
  for (const protocol of ["openai", "anthropic"] as const) {
    const { observer, scanner } = observe(protocol, [
      errorEvent(protocol, { type: "api_error", message: "Stream ended early" }),
    ]);
    assert.equal(observer.terminal, "error");
    assert.equal(observer.errorType, "api_error");
    assert.equal(observer.errorMessage, "Stream ended early");
    assert.equal(scanner.endedMidFrame, false);
  }
});

Deno.test("hasNonNullKey() only matches keys with a value", () => {
  assert.equal(hasNonNullKey('{"usage":null}', "usage"), false);
  assert.equal(hasNonNullKey('{"usage" : null}', "usage"), false);
  assert.equal(hasNonNullKey('{"usage": {"a":1}}', "usage"), true);
  assert.equal(hasNonNullKey('{"content":"usage"}', "usage"), false);
  assert.equal(hasNonNullKey('{"content":"say \\"usage\\": 1"}', "usage"), false);
  assert.equal(hasNonNullKey('{"finish_reason":"stop"}', "finish_reason"), true);
  assert.equal(hasNonNullKey('{"usage":', "usage"), false);
  assert.equal(hasNonNullKey('{"myusage":1,"usage":null}', "usage"), false);
});

Deno.test("createStreamObserver() skips parsing plain OpenAI deltas", () => {
  // A malformed delta after content started is not parsed, so it is not an error;
  // the same bytes before content are parsed and counted.
  const observer = createStreamObserver("openai");
  observer.onFrame({ data: '{"choices":[{"index":0,"delta":{"role":"assistant"}}]}' });
  observer.onFrame({ data: '{"choices":[{"index":0,"delta":{"content":"x"}}],"usage":null' });
  assert.equal(observer.parseErrors, 0);
  const fresh = createStreamObserver("openai");
  fresh.onFrame({ data: '{"choices":[{"index":0,"delta":{"content":"x"}}]' });
  assert.equal(fresh.parseErrors, 1);
});
