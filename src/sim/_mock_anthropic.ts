/**
 * Anthropic Messages wire shapes for the mock upstream: `message` bodies, the
 * named SSE event sequence, error envelopes and the paginated `/v1/models` list.
 */
import { type ReplyPlan, splitArguments, splitText } from "./_mock_reply.ts";
import type { ErrorDetail, RenderedStream } from "./_mock_openai.ts";
import type { MockUsage } from "./_mock_types.ts";

/** Identity of one message. */
export interface AnthropicIds {
  id: string;
  model: string;
}

const STOP: Record<ReplyPlan["stop"], string> = {
  end: "end_turn",
  max_tokens: "max_tokens",
  tool: "tool_use",
};

/**
 * Anthropic counts cached input apart from `input_tokens`: what an earlier request
 * already wrote is a cache read, the rest of the prefix is a cache write, and only
 * the final message is plain input.
 */
export function anthropicUsage(plan: ReplyPlan): MockUsage {
  const cacheRead = plan.cachedTokens;
  const cacheWrite = Math.max(0, plan.prefixTokens - cacheRead);
  return {
    inputTokens: Math.max(0, plan.promptTokens - cacheRead - cacheWrite),
    outputTokens: plan.outputTokens,
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    reasoningTokens: 0,
  };
}

function inputFields(usage: MockUsage): string {
  return `"input_tokens":${usage.inputTokens},` +
    `"cache_creation_input_tokens":${usage.cacheWriteTokens},` +
    `"cache_read_input_tokens":${usage.cacheReadTokens}`;
}

/** Non-streaming `message` body. */
export function anthropicMessage(plan: ReplyPlan, ids: AnthropicIds): {
  body: string;
  usage: MockUsage;
} {
  const usage = anthropicUsage(plan);
  const blocks: string[] = [];
  if (plan.text !== "" || !plan.tool) {
    blocks.push(`{"type":"text","text":${JSON.stringify(plan.text)}}`);
  }
  if (plan.tool) {
    blocks.push(
      `{"type":"tool_use","id":"${plan.tool.id}","name":${JSON.stringify(plan.tool.name)},` +
        `"input":${plan.tool.argumentsJson}}`,
    );
  }
  const body = `{"id":"${ids.id}","type":"message","role":"assistant",` +
    `"model":${JSON.stringify(ids.model)},"content":[${blocks.join(",")}],` +
    `"stop_reason":"${STOP[plan.stop]}","stop_sequence":null,"usage":{${inputFields(usage)},` +
    `"output_tokens":${usage.outputTokens},"service_tier":"standard"}}`;
  return { body, usage };
}

function event(name: string, data: string): string {
  return `event: ${name}\ndata: ${data}\n\n`;
}

function blockEvents(index: number, start: string, deltas: string[]): string[] {
  return [
    event(
      "content_block_start",
      `{"type":"content_block_start","index":${index},"content_block":${start}}`,
    ),
    ...deltas.map((delta) =>
      event(
        "content_block_delta",
        `{"type":"content_block_delta","index":${index},"delta":${delta}}`,
      )
    ),
    event("content_block_stop", `{"type":"content_block_stop","index":${index}}`),
  ];
}

/**
 * The documented event order: `message_start` (input and cache usage, output 1),
 * a `ping`, each content block as start/delta…/stop, `message_delta` (stop reason
 * and final usage), `message_stop`.
 */
export function anthropicStream(
  plan: ReplyPlan,
  ids: AnthropicIds,
  options: { pieceChars: number; deltaUsage: "cumulative" | "output_only" },
): RenderedStream {
  const usage = anthropicUsage(plan);
  const frames = [
    event(
      "message_start",
      `{"type":"message_start","message":{"id":"${ids.id}","type":"message","role":"assistant",` +
        `"model":${JSON.stringify(ids.model)},"content":[],"stop_reason":null,` +
        `"stop_sequence":null,"usage":{${inputFields(usage)},"output_tokens":1,` +
        `"service_tier":"standard"}}}`,
    ),
    event("ping", `{"type": "ping"}`),
  ];
  let index = 0;
  if (plan.text !== "" || !plan.tool) {
    const deltas = splitText(plan.text, options.pieceChars).map((piece) =>
      `{"type":"text_delta","text":${JSON.stringify(piece)}}`
    );
    frames.push(...blockEvents(index++, `{"type":"text","text":""}`, deltas));
  }
  if (plan.tool) {
    const pieces = ["", ...splitArguments(plan.tool.argumentsJson)];
    const deltas = pieces.map((piece) =>
      `{"type":"input_json_delta","partial_json":${JSON.stringify(piece)}}`
    );
    const start = `{"type":"tool_use","id":"${plan.tool.id}",` +
      `"name":${JSON.stringify(plan.tool.name)},"input":{}}`;
    frames.push(...blockEvents(index++, start, deltas));
  }
  const deltaUsage = options.deltaUsage === "cumulative"
    ? `{${inputFields(usage)},"output_tokens":${usage.outputTokens}}`
    : `{"output_tokens":${usage.outputTokens}}`;
  const usageFrame = frames.length;
  frames.push(
    event(
      "message_delta",
      `{"type":"message_delta","delta":{"stop_reason":"${STOP[plan.stop]}",` +
        `"stop_sequence":null},"usage":${deltaUsage}}`,
    ),
    event("message_stop", `{"type":"message_stop"}`),
  );
  return { frames, usageFrame, usage };
}

const ERRORS: Record<number, { type: string; message: string }> = {
  400: { type: "invalid_request_error", message: "Invalid request" },
  401: { type: "authentication_error", message: "invalid x-api-key" },
  402: { type: "billing_error", message: "Your credit balance is too low" },
  403: { type: "permission_error", message: "Your API key does not have permission" },
  404: { type: "not_found_error", message: "Not found" },
  413: { type: "request_too_large", message: "Request exceeds the maximum allowed size" },
  429: { type: "rate_limit_error", message: "Number of requests has exceeded your rate limit" },
  500: { type: "api_error", message: "Internal server error" },
  502: { type: "api_error", message: "Bad gateway" },
  503: { type: "api_error", message: "Service unavailable" },
  504: { type: "timeout_error", message: "Request timed out" },
  529: { type: "overloaded_error", message: "Overloaded" },
};

/** `{"type":"error","error":{"type","message"},"request_id"}` for `status`. */
export function anthropicError(
  status: number,
  requestId: string,
  options: ErrorDetail = {},
): string {
  const base = ERRORS[status] ??
    { type: status >= 500 ? "api_error" : "invalid_request_error", message: `Error ${status}` };
  return JSON.stringify({
    type: "error",
    error: {
      type: options.fault?.errorType ?? base.type,
      message: options.fault?.message ?? options.message ?? base.message,
    },
    request_id: requestId,
  });
}

/** `event: error` as sent inside a 200 stream (e.g. `overloaded_error`). */
export function anthropicErrorFrame(type: string, message: string): string {
  return event("error", JSON.stringify({ type: "error", error: { type, message } }));
}

/** Fixed release date of every listed model. */
const MODEL_CREATED_AT = "2025-01-01T00:00:00Z";

/** One `/v1/models` entry. */
export function anthropicModel(id: string): Record<string, unknown> {
  return { type: "model", id, display_name: id, created_at: MODEL_CREATED_AT };
}

/** Paginated list honouring `limit` (default 20), `after_id` and `before_id`. */
export function anthropicModelList(models: readonly string[], query: URLSearchParams): string {
  const limit = Math.min(1000, Math.max(1, Number(query.get("limit") ?? 20) || 20));
  const after = query.get("after_id");
  const before = query.get("before_id");
  let start = 0;
  let end = models.length;
  if (after !== null) start = models.indexOf(after) + 1;
  if (before !== null) end = Math.max(0, models.indexOf(before));
  const window = models.slice(start, end);
  const page = before !== null ? window.slice(-limit) : window.slice(0, limit);
  return JSON.stringify({
    data: page.map(anthropicModel),
    has_more: page.length < window.length,
    first_id: page[0] ?? null,
    last_id: page.at(-1) ?? null,
  });
}
