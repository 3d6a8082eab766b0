/**
 * OpenAI Chat Completions wire shapes for the mock upstream: `chat.completion`
 * bodies, `chat.completion.chunk` SSE frames, error envelopes and `/models`.
 */
import { type ReplyPlan, splitArguments, splitText } from "./_mock_reply.ts";
import type { MockFault, MockUsage } from "./_mock_types.ts";

/** Per-response identity shared by every chunk of one completion. */
export interface OpenAIIds {
  id: string;
  created: number;
  model: string;
}

/** SSE frames of one stream plus which frame carries the usage (-1: none). */
export interface RenderedStream {
  frames: string[];
  usageFrame: number;
  usage: MockUsage;
}

const FINISH: Record<ReplyPlan["stop"], string> = {
  end: "stop",
  max_tokens: "length",
  tool: "tool_calls",
};

/** Usage object in the documented shape, plus its normalized form. */
export function openaiUsage(plan: ReplyPlan, reasoningTokens: number): {
  json: string;
  usage: MockUsage;
} {
  const completion = plan.outputTokens + reasoningTokens;
  const json = `{"prompt_tokens":${plan.promptTokens},"completion_tokens":${completion},` +
    `"total_tokens":${plan.promptTokens + completion},` +
    `"prompt_tokens_details":{"cached_tokens":${plan.cachedTokens},"audio_tokens":0},` +
    `"completion_tokens_details":{"reasoning_tokens":${reasoningTokens},"audio_tokens":0,` +
    `"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`;
  return {
    json,
    usage: {
      inputTokens: plan.promptTokens,
      outputTokens: completion,
      cacheReadTokens: plan.cachedTokens,
      cacheWriteTokens: 0,
      reasoningTokens,
    },
  };
}

/** Non-streaming `chat.completion` body. */
export function openaiCompletion(plan: ReplyPlan, ids: OpenAIIds, reasoningTokens: number): {
  body: string;
  usage: MockUsage;
} {
  const { json, usage } = openaiUsage(plan, reasoningTokens);
  const toolCalls = plan.tool
    ? `,"tool_calls":[{"id":"${plan.tool.id}","type":"function","function":{"name":${
      JSON.stringify(plan.tool.name)
    },"arguments":${JSON.stringify(plan.tool.argumentsJson)}}}]`
    : "";
  const content = plan.tool && plan.text === "" ? "null" : JSON.stringify(plan.text);
  const body = `{"id":"${ids.id}","object":"chat.completion","created":${ids.created},` +
    `"model":${JSON.stringify(ids.model)},"choices":[{"index":0,"message":{"role":"assistant",` +
    `"content":${content}${toolCalls},"refusal":null,"annotations":[]},"logprobs":null,` +
    `"finish_reason":"${FINISH[plan.stop]}"}],"usage":${json},"service_tier":"default",` +
    `"system_fingerprint":"fp_mock"}`;
  return { body, usage };
}

/**
 * `chat.completion.chunk` frames: role chunk, content (or tool-call argument)
 * deltas, finish chunk, then — only with `stream_options.include_usage` — a
 * usage chunk with `choices: []`, then `data: [DONE]`. With include_usage every
 * other chunk carries `"usage":null`, as the API does.
 */
export function openaiStream(
  plan: ReplyPlan,
  ids: OpenAIIds,
  options: { includeUsage: boolean; reasoningTokens: number; pieceChars: number },
): RenderedStream {
  const head =
    `data: {"id":"${ids.id}","object":"chat.completion.chunk","created":${ids.created},` +
    `"model":${JSON.stringify(ids.model)},"service_tier":"default",` +
    `"system_fingerprint":"fp_mock","choices":[`;
  const tail = options.includeUsage ? `],"usage":null}\n\n` : `]}\n\n`;
  const choice = (delta: string, finish: string) =>
    `${head}{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finish}}${tail}`;
  const frames: string[] = [];
  if (plan.tool) {
    const tool = plan.tool;
    frames.push(choice(
      `{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"${tool.id}",` +
        `"type":"function","function":{"name":${
          JSON.stringify(tool.name)
        },"arguments":""}}],"refusal":null}`,
      "null",
    ));
    for (const piece of splitArguments(tool.argumentsJson)) {
      frames.push(choice(
        `{"tool_calls":[{"index":0,"function":{"arguments":${JSON.stringify(piece)}}}]}`,
        "null",
      ));
    }
  } else {
    frames.push(choice(`{"role":"assistant","content":"","refusal":null}`, "null"));
    for (const piece of splitText(plan.text, options.pieceChars)) {
      frames.push(choice(`{"content":${JSON.stringify(piece)}}`, "null"));
    }
  }
  frames.push(choice("{}", `"${FINISH[plan.stop]}"`));
  const { json, usage } = openaiUsage(plan, options.reasoningTokens);
  let usageFrame = -1;
  if (options.includeUsage) {
    usageFrame = frames.length;
    frames.push(`${head}],"usage":${json}}\n\n`);
  }
  frames.push("data: [DONE]\n\n");
  return { frames, usageFrame, usage };
}

interface ErrorDefaults {
  type: string;
  code: string | null;
  message: string;
}

const ERRORS: Record<number, ErrorDefaults> = {
  400: { type: "invalid_request_error", code: null, message: "Invalid request" },
  401: {
    type: "invalid_request_error",
    code: "invalid_api_key",
    message: "Incorrect API key provided",
  },
  402: {
    type: "insufficient_quota",
    code: "insufficient_quota",
    message: "You exceeded your current quota, please check your plan and billing details",
  },
  403: { type: "permission_error", code: null, message: "You are not allowed to use this model" },
  404: { type: "invalid_request_error", code: "model_not_found", message: "Not found" },
  413: { type: "invalid_request_error", code: "request_too_large", message: "Request too large" },
  429: {
    type: "requests",
    code: "rate_limit_exceeded",
    message: "Rate limit reached for requests",
  },
  500: { type: "server_error", code: null, message: "The server had an error" },
  502: { type: "server_error", code: "bad_gateway", message: "Bad gateway" },
  503: {
    type: "service_unavailable_error",
    code: "server_is_overloaded",
    message: "The server is overloaded, please try again later",
  },
  504: { type: "server_error", code: "timeout", message: "Request timed out" },
  529: { type: "server_error", code: "overloaded", message: "Overloaded" },
};

function errorDefaults(status: number): ErrorDefaults {
  return ERRORS[status] ??
    (status >= 500
      ? { type: "server_error", code: null, message: `Upstream error ${status}` }
      : { type: "invalid_request_error", code: null, message: `Request failed with ${status}` });
}

/** What an error body says beyond its status; a fault's overrides win. */
export interface ErrorDetail {
  fault?: MockFault;
  message?: string;
  /** OpenAI `error.code`; `null` clears the status default. */
  code?: string | null;
}

/** `{"error":{"message","type","param","code"}}` for `status`. */
export function openaiError(status: number, detail: ErrorDetail = {}): string {
  const base = errorDefaults(status);
  const { fault } = detail;
  return JSON.stringify({
    error: {
      message: fault?.message ?? detail.message ?? base.message,
      type: fault?.errorType ?? base.type,
      param: null,
      code: fault?.errorCode ?? (detail.code === undefined ? base.code : detail.code),
    },
  });
}

/** An error delivered inside a 200 stream: a `data:` frame holding an error envelope. */
export function openaiErrorFrame(type: string, message: string): string {
  return `data: ${JSON.stringify({ error: { message, type, param: null, code: null } })}\n\n`;
}

/** Fixed creation time of every listed model (2025-01-01T00:00:00Z). */
export const MODEL_CREATED_S = 1735689600;

/** One `/models` entry. */
export function openaiModel(id: string): Record<string, unknown> {
  return { id, object: "model", created: MODEL_CREATED_S, owned_by: "mock" };
}

/** `{"object":"list","data":[…]}`. */
export function openaiModelList(models: readonly string[]): string {
  return JSON.stringify({ object: "list", data: models.map(openaiModel) });
}
