/**
 * Hot-path cost of the streaming tap: `deno bench src/proxy/sse_bench.ts`.
 * Budget: the whole proxy adds < 0.35 ms CPU per request, so scanning and
 * observing a typical 200-frame stream must stay well below that.
 */

import { SseScanner } from "./sse.ts";
import { createStreamObserver } from "./usage.ts";
import { createUsageChunkFilter } from "./include_usage.ts";
import { computeCost } from "./cost.ts";

const FRAMES = 200;
const encoder = new TextEncoder();

function openAiStream(): string {
  const head = '{"id":"chatcmpl-Bench01","object":"chat.completion.chunk","created":1767225600,' +
    '"model":"gpt-4.1-2025-04-14","service_tier":"default","system_fingerprint":"fp_bench",';
  let text = `data: ${head}"choices":[{"index":0,"delta":{"role":"assistant","content":""},` +
    `"logprobs":null,"finish_reason":null}],"usage":null}\n\n`;
  for (let i = 0; i < FRAMES - 4; i++) {
    const word = i % 7 === 0 ? " café" : i % 11 === 0 ? " 🥚" : ` token${i}`;
    text += `data: ${head}"choices":[{"index":0,"delta":{"content":"${word}"},` +
      `"logprobs":null,"finish_reason":null}],"usage":null}\n\n`;
  }
  text += `data: ${head}"choices":[{"index":0,"delta":{},"logprobs":null,` +
    `"finish_reason":"stop"}],"usage":null}\n\n`;
  text += `data: ${head}"choices":[],"usage":{"prompt_tokens":1800,"completion_tokens":197,` +
    `"total_tokens":1997,"prompt_tokens_details":{"cached_tokens":1024},` +
    `"completion_tokens_details":{"reasoning_tokens":0}}}\n\n`;
  return text + "data: [DONE]\n\n";
}

function anthropicStream(): string {
  let text = "event: message_start\ndata: " +
    '{"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant",' +
    '"model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,' +
    '"usage":{"input_tokens":12,"cache_creation_input_tokens":512,' +
    '"cache_read_input_tokens":4096,"output_tokens":1}}}\n\n' +
    'event: content_block_start\ndata: {"type":"content_block_start","index":0,' +
    '"content_block":{"type":"text","text":""}}\n\n';
  for (let i = 0; i < FRAMES - 5; i++) {
    text += 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,' +
      `"delta":{"type":"text_delta","text":" mot${i} déjà"}}\n\n`;
  }
  return text +
    'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n' +
    'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn",' +
    '"stop_sequence":null},"usage":{"output_tokens":196}}\n\n' +
    'event: message_stop\ndata: {"type":"message_stop"}\n\n';
}

/** Cuts the stream like a network would: fixed-size reads that ignore frame edges. */
function chunked(text: string, size: number): Uint8Array[] {
  const bytes = encoder.encode(text);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.slice(at, at + size));
  return chunks;
}

/** Cuts the stream the way providers usually flush it: one SSE event per chunk. */
function perFrame(text: string): Uint8Array[] {
  return text.split(/(?<=\n\n)/).map((frame) => encoder.encode(frame));
}

const OPENAI = chunked(openAiStream(), 700);
const OPENAI_PER_FRAME = perFrame(openAiStream());
const ANTHROPIC = chunked(anthropicStream(), 700);
const ANTHROPIC_PER_FRAME = perFrame(anthropicStream());

Deno.bench("SseScanner alone, OpenAI 200 frames", { group: "openai", baseline: true }, () => {
  let n = 0;
  const scanner = new SseScanner(() => n++);
  for (const chunk of OPENAI) scanner.push(chunk);
  scanner.end();
  if (n !== FRAMES) throw new Error(`Expected ${FRAMES} frames, got ${n}`);
});

Deno.bench("SseScanner + observer, OpenAI 200 frames", { group: "openai" }, () => {
  const observer = createStreamObserver("openai");
  const scanner = new SseScanner((frame) => observer.onFrame(frame));
  for (const chunk of OPENAI) scanner.push(chunk);
  scanner.end();
  if (observer.terminal !== "done") throw new Error("Stream did not complete");
});

Deno.bench("usage filter + observer, OpenAI 200 frames", { group: "openai" }, () => {
  const observer = createStreamObserver("openai");
  const filter = createUsageChunkFilter(observer);
  for (const chunk of OPENAI) filter.push(chunk);
  filter.end();
  if (filter.removedFrames !== 1) throw new Error("Usage chunk not removed");
});

Deno.bench("SseScanner + observer, OpenAI, one frame per chunk", { group: "openai" }, () => {
  const observer = createStreamObserver("openai");
  const scanner = new SseScanner((frame) => observer.onFrame(frame));
  for (const chunk of OPENAI_PER_FRAME) scanner.push(chunk);
  scanner.end();
  if (observer.terminal !== "done") throw new Error("Stream did not complete");
});

Deno.bench("SseScanner alone, Anthropic 200 frames", { group: "anthropic", baseline: true }, () => {
  let n = 0;
  const scanner = new SseScanner(() => n++);
  for (const chunk of ANTHROPIC) scanner.push(chunk);
  scanner.end();
  if (n !== FRAMES) throw new Error(`Expected ${FRAMES} frames, got ${n}`);
});

Deno.bench("SseScanner + observer, Anthropic 200 frames", { group: "anthropic" }, () => {
  const observer = createStreamObserver("anthropic");
  const scanner = new SseScanner((frame) => observer.onFrame(frame));
  for (const chunk of ANTHROPIC) scanner.push(chunk);
  scanner.end();
  if (observer.terminal !== "done") throw new Error("Stream did not complete");
});

Deno.bench("SseScanner + observer, Anthropic, one frame per chunk", { group: "anthropic" }, () => {
  const observer = createStreamObserver("anthropic");
  const scanner = new SseScanner((frame) => observer.onFrame(frame));
  for (const chunk of ANTHROPIC_PER_FRAME) scanner.push(chunk);
  scanner.end();
  if (observer.terminal !== "done") throw new Error("Stream did not complete");
});

Deno.bench("computeCost()", () => {
  computeCost(
    { inputTokens: 776, outputTokens: 197, cacheReadTokens: 1024, cacheWriteTokens: 0 },
    { inputMicrosPerMillion: 2_000_000, outputMicrosPerMillion: 8_000_000 },
  );
});
