/**
 * The tables both directions share: stop reasons (04 §7.2), usage counters
 * and error types (04 §7.3).
 */
import { asRecord } from "./types.ts";

/** Anthropic `stop_reason` → OpenAI `finish_reason` (04 §7.2). */
export const FINISH_OF_STOP: Readonly<Record<string, string>> = {
  end_turn: "stop",
  stop_sequence: "stop",
  max_tokens: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
  pause_turn: "tool_calls",
  model_context_window_exceeded: "length",
};

/** OpenAI `finish_reason` → Anthropic `stop_reason`. */
export const STOP_OF_FINISH: Readonly<Record<string, string>> = {
  stop: "end_turn",
  length: "max_tokens",
  tool_calls: "tool_use",
  function_call: "tool_use",
  content_filter: "refusal",
};

/** Anthropic error type → OpenAI error type (04 §7.3). */
export const OPENAI_ERROR_OF: Readonly<Record<string, string>> = {
  invalid_request_error: "invalid_request_error",
  authentication_error: "invalid_api_key",
  permission_error: "insufficient_quota",
  not_found_error: "invalid_request_error",
  request_too_large: "invalid_request_error",
  rate_limit_error: "rate_limit_exceeded",
  api_error: "api_error",
  overloaded_error: "api_error",
  billing_error: "insufficient_quota",
  timeout_error: "timeout",
  conflict_error: "invalid_request_error",
  internal_error: "api_error",
};

/** OpenAI error type or code → Anthropic error type (the reverse of the table above). */
export const ANTHROPIC_ERROR_OF: Readonly<Record<string, string>> = {
  invalid_request_error: "invalid_request_error",
  invalid_api_key: "authentication_error",
  authentication_error: "authentication_error",
  insufficient_quota: "billing_error",
  permission_error: "permission_error",
  rate_limit_exceeded: "rate_limit_error",
  rate_limit_error: "rate_limit_error",
  model_not_found: "not_found_error",
  not_found_error: "not_found_error",
  timeout: "timeout_error",
  api_error: "api_error",
  server_error: "api_error",
  overloaded_error: "overloaded_error",
};

/** Anthropic error type of an OpenAI error, by code, then type, then HTTP status. */
export function anthropicErrorType(err: Record<string, unknown>, status?: number): string {
  for (const key of [err.code, err.type]) {
    if (typeof key === "string" && ANTHROPIC_ERROR_OF[key] !== undefined) {
      return ANTHROPIC_ERROR_OF[key];
    }
  }
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 413) return "request_too_large";
  if (status === 429) return "rate_limit_error";
  if (status === 529 || status === 503) return "overloaded_error";
  if (status !== undefined && status < 500) return "invalid_request_error";
  return "api_error";
}

function count(u: Record<string, unknown> | undefined, key: string): number {
  const v = u?.[key];
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : 0;
}

/**
 * Anthropic usage as OpenAI usage: OpenAI's `prompt_tokens` includes cached
 * input, Anthropic's `input_tokens` does not, so cache reads and writes are
 * added back and the reads shown as `cached_tokens`.
 */
export function openAiUsageOf(u: Record<string, unknown> | undefined): Record<string, unknown> {
  const read = count(u, "cache_read_input_tokens");
  const write = count(u, "cache_creation_input_tokens");
  const prompt = count(u, "input_tokens") + read + write;
  const completion = count(u, "output_tokens");
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: read },
  };
}

/** OpenAI usage as Anthropic usage: cached input moves out of `input_tokens`. */
export function anthropicUsageOf(u: Record<string, unknown> | undefined): Record<string, number> {
  const details = asRecord(u?.prompt_tokens_details);
  const cached = count(details, "cached_tokens") || count(u, "prompt_cache_hit_tokens");
  const prompt = count(u, "prompt_tokens");
  return {
    input_tokens: Math.max(0, prompt - cached),
    output_tokens: count(u, "completion_tokens"),
    cache_read_input_tokens: cached,
    cache_creation_input_tokens: 0,
  };
}
