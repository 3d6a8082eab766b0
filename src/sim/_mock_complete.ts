/**
 * Answers a validated completion request (`/chat/completions` or `/messages`),
 * streaming or not, applying the stream-shaping parts of a fault. With no fault
 * and no latency the whole body is pre-rendered into one string: the cheap path
 * the proxy benchmark measures against.
 */
import { anthropicErrorFrame, anthropicMessage, anthropicStream } from "./_mock_anthropic.ts";
import { baseHeaders, type Exchange, JSON_TYPE } from "./_mock_exchange.ts";
import { openaiCompletion, openaiErrorFrame, openaiStream } from "./_mock_openai.ts";
import { planReply, type ReplyPlan } from "./_mock_reply.ts";
import { pacedBody } from "./_mock_stream.ts";
import type { MockFault, MockUsage } from "./_mock_types.ts";

const SSE_TYPE = "text/event-stream; charset=utf-8";
const DEFAULT_PIECE_CHARS = 8;

const ERROR_EVENT_MESSAGES: Record<string, string> = {
  overloaded_error: "Overloaded",
  api_error: "Internal server error",
  rate_limit_error: "Rate limited",
};

const ENCODER = new TextEncoder();

/** A body stream (so the response is chunked, like a real SSE answer) holding one chunk. */
function oneChunk(text: string): ReadableStream<Uint8Array> {
  const bytes = ENCODER.encode(text);
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

function shapesBody(fault: MockFault | undefined): boolean {
  return fault !== undefined && (
    fault.dropAfterFrames !== undefined || fault.stallAfterFrames !== undefined ||
    fault.errorEventFirst !== undefined || fault.midStreamError !== undefined ||
    fault.chunkSplit !== undefined || fault.crlf === true
  );
}

/** Renders the reply planned for `exchange.record` in its dialect. */
export function respondCompletion(exchange: Exchange): Response {
  const { state, record, dialect, serial } = exchange;
  const plan = planReply(record, dialect, {
    options: state.options,
    cache: state.cache,
    toolId: () => (dialect === "anthropic" ? "toolu_mock" : "call_mock") + serial,
  });
  record.status = 200;
  return record.stream ? streamed(exchange, plan) : whole(exchange, plan);
}

function whole(exchange: Exchange, plan: ReplyPlan): Response {
  const { state, record, fault, serial } = exchange;
  const model = record.model ?? "";
  const rendered = exchange.dialect === "anthropic"
    ? anthropicMessage(plan, { id: `msg_mock${serial}`, model })
    : openaiCompletion(
      plan,
      { id: `chatcmpl-mock${serial}`, created: Math.floor(Date.now() / 1000), model },
      state.options.reasoningTokens ?? 0,
    );
  const headers = baseHeaders(exchange, JSON_TYPE);
  const firstByteDelayMs = (fault?.firstByteDelayMs ?? 0) +
    (state.options.latency?.firstByteMs ?? 0);
  if (!shapesBody(fault) && firstByteDelayMs === 0) {
    record.usage = rendered.usage;
    exchange.settle("completed");
    return new Response(rendered.body, { status: 200, headers });
  }
  // A cut or stall in a plain JSON answer happens after half of its bytes.
  const half = rendered.body.length >> 1;
  const body = pacedBody({
    frames: [rendered.body.slice(0, half), rendered.body.slice(half)],
    firstByteDelayMs,
    frameDelayMs: 0,
    dropAfterFrames: fault?.dropAfterFrames === undefined ? undefined : 1,
    stallAfterFrames: fault?.stallAfterFrames === undefined ? undefined : 1,
    chunkSplit: fault?.chunkSplit,
    crlf: false,
    shutdown: state.shutdown.signal,
    onFrameWritten: (index) => {
      if (index === 1) record.usage = rendered.usage;
    },
    settle: exchange.settle,
  });
  return new Response(body, { status: 200, headers });
}

function errorFrame(exchange: Exchange, fault: MockFault | undefined) {
  const spec = fault?.errorEventFirst !== undefined
    ? { afterFrames: 0, type: fault.errorEventFirst, message: fault.message }
    : fault?.midStreamError;
  if (!spec) return undefined;
  const type = spec.type ?? "api_error";
  const message = spec.message ?? ERROR_EVENT_MESSAGES[type] ?? type;
  const frame = exchange.dialect === "anthropic"
    ? anthropicErrorFrame(type, message)
    : openaiErrorFrame(type, message);
  return { afterFrames: spec.afterFrames, frame };
}

function streamed(exchange: Exchange, plan: ReplyPlan): Response {
  const { state, record, fault, serial } = exchange;
  const options = state.options;
  const body = record.body as Record<string, unknown>;
  const model = record.model ?? "";
  const pieceChars = Math.max(1, options.streamPieceChars ?? DEFAULT_PIECE_CHARS);
  const rendered = exchange.dialect === "anthropic"
    ? anthropicStream(plan, { id: `msg_mock${serial}`, model }, {
      pieceChars,
      deltaUsage: options.anthropicDeltaUsage ?? "cumulative",
    })
    : openaiStream(
      plan,
      { id: `chatcmpl-mock${serial}`, created: Math.floor(Date.now() / 1000), model },
      {
        includeUsage: (body.stream_options as { include_usage?: unknown } | undefined)
          ?.include_usage === true,
        reasoningTokens: options.reasoningTokens ?? 0,
        pieceChars,
      },
    );
  const headers = { ...baseHeaders(exchange, SSE_TYPE), "cache-control": "no-cache" };
  const firstByteDelayMs = (fault?.firstByteDelayMs ?? 0) + (options.latency?.firstByteMs ?? 0);
  const frameDelayMs = (fault?.frameDelayMs ?? 0) + (options.latency?.perFrameMs ?? 0);
  const usage: MockUsage = rendered.usage;
  if (!shapesBody(fault) && firstByteDelayMs === 0 && frameDelayMs === 0) {
    if (rendered.usageFrame >= 0) record.usage = usage;
    exchange.settle("completed");
    return new Response(oneChunk(rendered.frames.join("")), { status: 200, headers });
  }
  const stream = pacedBody({
    frames: rendered.frames,
    firstByteDelayMs,
    frameDelayMs,
    dropAfterFrames: fault?.dropAfterFrames,
    stallAfterFrames: fault?.stallAfterFrames,
    errorFrame: errorFrame(exchange, fault),
    chunkSplit: fault?.chunkSplit,
    crlf: fault?.crlf === true,
    shutdown: state.shutdown.signal,
    onFrameWritten: (index) => {
      if (index === rendered.usageFrame) record.usage = usage;
    },
    settle: exchange.settle,
  });
  return new Response(stream, { status: 200, headers });
}
