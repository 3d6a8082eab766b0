/**
 * Usage extraction and stream observation for OpenAI Chat Completions and
 * Anthropic Messages responses (04 §4.3, §5; 09-decisions).
 *
 * @module
 */

import type { Protocol } from "../core/protocol.ts";
import type { SseFrame } from "./sse.ts";
import { boundText, MAX_TOKENS_PER_REQUEST } from "../stats/bounds.ts";

export type { Protocol };

/**
 * What a stream's frames are: one of the two protocols, or the Responses API
 * (`/v1/responses` passed through to a provider with `responses_path`).
 */
export type Wire = Protocol | "responses";

/**
 * Token counts of one response, normalized so that one formula prices both
 * protocols: `cost = input*in + cacheRead*cr + cacheWrite*cw + output*out`.
 *
 * - `inputTokens` is always the input that was neither read from nor written to
 *   a prompt cache. Anthropic reports it that way; OpenAI's `prompt_tokens`
 *   includes cached tokens, so we subtract `cached_tokens` (and any reported
 *   cache writes) from it — 09-decisions: no double charge.
 * - `outputTokens` includes reasoning tokens (both protocols bill them as
 *   output); `reasoningTokens` is informational only.
 */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  /** False when the response carried no usage object at all (kept apart from zeros). */
  reported: boolean;
  /** Cost the provider reported itself, in microdollars (04 §5.4). */
  providerCostMicros?: number;
  /**
   * Set when a counter was negative, fractional, not a number or above
   * {@linkcode MAX_TOKENS_PER_REQUEST}: such a counter counts as 0 and its raw
   * value is kept here as text, so one hostile or buggy upstream cannot
   * poison sums, windows and the dashboard (issue #12).
   */
  implausibleUsage?: string;
}

/** Usage with every counter at zero and `reported: false`. */
export function emptyUsage(): Usage {
  return {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    reported: false,
  };
}

/** Usage of a non-streaming JSON response, or undefined when it has no `usage` object. */
export function usageFromJson(protocol: Protocol, body: unknown): Usage | undefined {
  const root = asRecord(body);
  const usage = asRecord(root?.usage);
  if (root === undefined || usage === undefined) return undefined;
  return protocol === "openai" ? openAiUsage(usage, root) : anthropicUsage(usage, root);
}

/** Normalizes an OpenAI-style `usage` object; `root` is the response holding it. */
export function openAiUsage(u: Record<string, unknown>, root?: Record<string, unknown>): Usage {
  const bad: string[] = [];
  // Chat Completions says `prompt_tokens_details`, the Responses API `input_tokens_details`.
  const details = asRecord(u.prompt_tokens_details) ?? asRecord(u.input_tokens_details);
  const prompt = countOf(u, firstKey(u, PROMPT_KEYS), bad);
  // Compatible providers spell the cached count in several places (04 §5.5).
  const cacheRead = details?.cached_tokens !== undefined && details.cached_tokens !== null
    ? countOf(details, "cached_tokens", bad)
    : countOf(u, firstKey(u, CACHED_KEYS), bad);
  const cacheWrite = toCount(details?.cache_write_tokens, "cache_write_tokens", bad);
  const outDetails = asRecord(u.completion_tokens_details) ?? asRecord(u.output_tokens_details);
  const input = prompt - cacheRead - cacheWrite;
  const usage: Usage = {
    inputTokens: input > 0 ? input : 0,
    outputTokens: countOf(u, firstKey(u, COMPLETION_KEYS), bad),
    cacheReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    reasoningTokens: toCount(outDetails?.reasoning_tokens, "reasoning_tokens", bad),
    reported: true,
  };
  return withCost(noteImplausible(usage, bad), u, root);
}

const PROMPT_KEYS = ["prompt_tokens", "input_tokens"];
const COMPLETION_KEYS = ["completion_tokens", "output_tokens"];
/** Where OpenAI-compatible providers put the cached-input count, most common first. */
const CACHED_KEYS = ["cached_tokens", "prompt_cache_hit_tokens", "cache_read_input_tokens"];

function firstKey(u: Record<string, unknown>, keys: readonly string[]): string {
  for (const key of keys) {
    if (u[key] !== undefined && u[key] !== null) return key;
  }
  return keys[0];
}

/** Normalizes an Anthropic-style `usage` object; `root` is the message or event holding it. */
export function anthropicUsage(u: Record<string, unknown>, root?: Record<string, unknown>): Usage {
  const bad: string[] = [];
  let cacheWrite = countOf(u, "cache_creation_input_tokens", bad);
  if (cacheWrite === 0) {
    // Newer responses also split writes by TTL; use that when the total is missing.
    const split = asRecord(u.cache_creation);
    if (split !== undefined) {
      cacheWrite = countOf(split, "ephemeral_5m_input_tokens", bad) +
        countOf(split, "ephemeral_1h_input_tokens", bad);
    }
  }
  const usage: Usage = {
    inputTokens: firstPositive(u, INPUT_KEYS, bad),
    outputTokens: countOf(u, "output_tokens", bad),
    cacheReadTokens: countOf(u, "cache_read_input_tokens", bad),
    cacheWriteTokens: cacheWrite,
    reasoningTokens: 0,
    reported: true,
  };
  return withCost(noteImplausible(usage, bad), u, root);
}

/** Spellings of the input count seen on Anthropic-compatible providers, preferred first. */
const INPUT_KEYS = ["input_tokens", "prompt_tokens", "input_tokens_total", "prompt_token_count"];

/** Where a stream stands: still running, ended by its own terminal marker, or by an error event. */
export type StreamTerminal = "open" | "done" | "error";

/** What the proxy learns from a stream's frames; read it at any time. */
export interface StreamObserver {
  /** Observe one decoded frame (wire this to {@linkcode SseScanner}'s callback). */
  onFrame(frame: SseFrame): void;
  readonly protocol: Wire;
  /** Usage merged over the stream so far (`reported: false` until a usage object arrives). */
  readonly usage: Usage;
  /** A non-empty `data:` was seen. */
  readonly sawPayload: boolean;
  /**
   * A content-bearing frame was seen, so the upstream has started answering.
   * OpenAI: a chunk with a non-empty `choices` array (role, content, tool calls
   * or a finish). Anthropic: `content_block_start|delta|stop` or `message_delta`.
   * `message_start`, `ping`, usage-only and error frames do not count: an
   * Anthropic stream may send `message_start` and then `overloaded_error`.
   * Until then the proxy may hold the response head and fail over on an error.
   */
  readonly sawContent: boolean;
  /** Clock reading when the first content frame was observed. */
  readonly firstContentAt: number | undefined;
  readonly terminal: StreamTerminal;
  readonly errorType: string | undefined;
  readonly errorMessage: string | undefined;
  /** OpenAI `finish_reason` or Anthropic `stop_reason`, as sent. */
  readonly finishReason: string | undefined;
  readonly model: string | undefined;
  readonly responseId: string | undefined;
  /** A completing usage object was seen (OpenAI usage chunk, Anthropic `message_delta`). */
  readonly usageComplete: boolean;
  /**
   * The frame just observed was OpenAI's usage-only chunk (`choices: []` plus a
   * `usage` object), the one `createUsageChunkFilter` removes.
   */
  readonly lastFrameUsageOnly: boolean;
  /** Frames whose data could not be understood. */
  readonly parseErrors: number;
  /** Frames that arrived after the terminal marker or error (04 §4.3: a parser error). */
  readonly framesAfterTerminal: number;
  /** Responses API: the `encrypted_content` of the reasoning items of the final response. */
  readonly encryptedReasoning: readonly string[];
  /** Frames with a non-empty `data:` before the terminal one (the Responses `sequence_number` to come). */
  readonly payloadFrames: number;
}

/** Options for {@linkcode createStreamObserver}. */
export interface StreamObserverOptions {
  /** Time source for `firstContentAt`; defaults to `Date.now`. */
  clock?: () => number;
}

/** Creates the usage/completion observer for one upstream stream. */
export function createStreamObserver(
  protocol: Wire,
  options: StreamObserverOptions = {},
): StreamObserver {
  return new Observer(protocol, options.clock ?? Date.now);
}

class Observer implements StreamObserver {
  sawPayload = false;
  sawContent = false;
  firstContentAt: number | undefined = undefined;
  terminal: StreamTerminal = "open";
  errorType: string | undefined = undefined;
  errorMessage: string | undefined = undefined;
  finishReason: string | undefined = undefined;
  model: string | undefined = undefined;
  responseId: string | undefined = undefined;
  usageComplete = false;
  lastFrameUsageOnly = false;
  parseErrors = 0;
  framesAfterTerminal = 0;
  encryptedReasoning: readonly string[] = [];
  payloadFrames = 0;
  #usage: Usage | undefined = undefined;

  constructor(readonly protocol: Wire, readonly clock: () => number) {}

  get usage(): Usage {
    return this.#usage === undefined ? emptyUsage() : { ...this.#usage };
  }

  onFrame(frame: SseFrame): void {
    this.lastFrameUsageOnly = false;
    const data = frame.data;
    if (data.length === 0) return;
    if (this.terminal !== "open") {
      this.framesAfterTerminal++;
      return;
    }
    this.sawPayload = true;
    this.payloadFrames++;
    if (this.protocol === "openai") this.#openAi(frame.event, data);
    else if (this.protocol === "anthropic") this.#anthropic(frame.event, data);
    else this.#responses(frame.event, data);
  }

  #content(): void {
    if (this.sawContent) return;
    this.sawContent = true;
    this.firstContentAt = this.clock();
  }

  #openAi(event: string | undefined, data: string): void {
    if (data === "[DONE]" || (data.length < 16 && data.trim() === "[DONE]")) {
      this.terminal = "done";
      return;
    }
    // Hot path (04 §5.1): once content flows, a plain delta chunk carries nothing
    // we need, so only parse frames with a non-null usage or finish_reason, or a
    // bare error object. (Providers that put `error` beside `choices`, such as
    // OpenRouter, also set `finish_reason: "error"`.) OpenAI's own chunks end
    // in a fixed way that settles this without searching the whole frame.
    if (
      this.sawContent && event !== "error" &&
      (data.endsWith(PLAIN_CHUNK_END) || data.endsWith(PLAIN_CHUNK_END_NO_USAGE) ||
        !hasValue(data, USAGE_KEY) && !hasValue(data, FINISH_REASON_KEY) &&
          !startsWithErrorKey(data))
    ) return;
    const chunk = parseObject(data);
    if (chunk === undefined) {
      this.parseErrors++;
      return;
    }
    if (event === "error" || chunk.error !== undefined && chunk.error !== null) {
      this.#fail(chunk.error ?? chunk, "api_error");
      return;
    }
    if (this.responseId === undefined && typeof chunk.id === "string") this.responseId = chunk.id;
    if (this.model === undefined && typeof chunk.model === "string") this.model = chunk.model;
    const choices = chunk.choices;
    if (Array.isArray(choices) && choices.length > 0) {
      this.#content();
      for (const choice of choices) {
        const reason = asRecord(choice)?.finish_reason;
        if (typeof reason === "string") this.finishReason = reason;
      }
    }
    const usage = asRecord(chunk.usage);
    if (usage !== undefined) {
      this.#usage = openAiUsage(usage, chunk); // cumulative: the latest object wins
      this.usageComplete = true;
      this.lastFrameUsageOnly = Array.isArray(choices) && choices.length === 0;
    }
  }

  #anthropic(event: string | undefined, data: string): void {
    let parsed: Record<string, unknown> | undefined;
    let type = event;
    if (type === undefined) {
      // Some compatible providers omit `event:` lines; the JSON `type` says the same.
      parsed = parseObject(data);
      if (parsed === undefined) {
        this.parseErrors++;
        return;
      }
      type = typeof parsed.type === "string" ? parsed.type : "";
    }
    switch (type) {
      case "content_block_start":
      case "content_block_delta":
      case "content_block_stop":
        this.#content(); // bulk of the stream: never parsed
        return;
      case "message_stop":
        this.terminal = "done";
        return;
      case "message_start":
      case "message_delta":
      case "error":
        break;
      default:
        return; // ping and event types added later
    }
    parsed ??= parseObject(data);
    if (parsed === undefined) {
      this.parseErrors++;
      return;
    }
    if (type === "error") {
      this.#fail(parsed.error ?? parsed, "api_error");
    } else if (type === "message_start") {
      const message = asRecord(parsed.message);
      if (message === undefined) return;
      if (typeof message.id === "string") this.responseId = message.id;
      if (typeof message.model === "string") this.model = message.model;
      const usage = asRecord(message.usage);
      if (usage !== undefined) this.#mergeAnthropic(anthropicUsage(usage, message));
    } else {
      this.#content();
      const reason = asRecord(parsed.delta)?.stop_reason;
      if (typeof reason === "string") this.finishReason = reason;
      const usage = asRecord(parsed.usage);
      if (usage !== undefined) {
        this.#mergeAnthropic(anthropicUsage(usage, parsed));
        this.usageComplete = true;
      }
    }
  }

  /**
   * A Responses API stream (04 §4): `response.completed` ends it well,
   * `response.failed` and `response.incomplete` end it as a failure that was
   * already shown to the client (content, so no failover), and an `error`
   * event before any output is an error the next account may retry. Only the
   * lifecycle events are parsed; the deltas in between never are.
   */
  #responses(event: string | undefined, data: string): void {
    let parsed: Record<string, unknown> | undefined;
    let type = event;
    if (type === undefined) {
      parsed = parseObject(data);
      if (parsed === undefined) {
        this.parseErrors++;
        return;
      }
      type = typeof parsed.type === "string" ? parsed.type : "";
    }
    switch (type) {
      case "response.created":
      case "response.in_progress":
      case "response.queued":
      case "response.completed":
      case "response.failed":
      case "response.incomplete":
      case "error":
        break;
      default:
        if (type.startsWith("response.")) this.#content(); // the deltas: never parsed
        return;
    }
    parsed ??= parseObject(data);
    if (parsed === undefined) {
      this.parseErrors++;
      return;
    }
    if (type === "error") {
      const code = parsed.code ?? asRecord(parsed.error)?.code ?? asRecord(parsed.error)?.type;
      this.#fail({
        type: typeof code === "string" && code !== "" ? code : "api_error",
        message: parsed.message ?? asRecord(parsed.error)?.message,
      }, "api_error");
      return;
    }
    const response = asRecord(parsed.response);
    if (response === undefined) return;
    if (typeof response.id === "string") this.responseId = response.id;
    if (typeof response.model === "string") this.model = response.model;
    if (
      type === "response.created" || type === "response.in_progress" || type === "response.queued"
    ) {
      return;
    }
    this.#content();
    const usage = asRecord(response.usage);
    if (usage !== undefined) {
      this.#usage = openAiUsage(usage, response);
      this.usageComplete = true;
    }
    this.encryptedReasoning = encryptedReasoningOf(response.output);
    if (type === "response.completed") {
      this.finishReason = "completed";
      this.terminal = "done";
      return;
    }
    const reason = asRecord(response.incomplete_details)?.reason;
    this.finishReason = typeof reason === "string" ? reason : type.slice("response.".length);
    // One error type per terminal kind (spec 04 §4.3); the provider's code goes in the message.
    const error = asRecord(response.error);
    const code = error?.code ?? error?.type ?? this.finishReason;
    const said = typeof error?.message === "string" ? `: ${error.message}` : "";
    this.#fail({
      type: type === "response.failed" ? "response_failed" : "response_incomplete",
      message: `The provider ended the response ${type.slice("response.".length)} (${code})${said}`,
    }, "response_failed");
  }

  /**
   * Anthropic counters are running totals (`message_delta.output_tokens` is
   * cumulative, and newer deltas repeat the input counts), so we merge by max:
   * a repeated or duplicated event can never double-count.
   */
  #mergeAnthropic(next: Usage): void {
    const prev = this.#usage;
    if (prev === undefined) {
      this.#usage = next;
      return;
    }
    prev.inputTokens = Math.max(prev.inputTokens, next.inputTokens);
    prev.outputTokens = Math.max(prev.outputTokens, next.outputTokens);
    prev.cacheReadTokens = Math.max(prev.cacheReadTokens, next.cacheReadTokens);
    prev.cacheWriteTokens = Math.max(prev.cacheWriteTokens, next.cacheWriteTokens);
    if (next.providerCostMicros !== undefined) prev.providerCostMicros = next.providerCostMicros;
    if (next.implausibleUsage !== undefined) prev.implausibleUsage = next.implausibleUsage;
  }

  #fail(error: unknown, fallbackType: string): void {
    this.terminal = "error";
    const record = asRecord(error);
    if (record === undefined) {
      this.errorType = fallbackType;
      this.errorMessage = typeof error === "string" ? error : undefined;
      return;
    }
    const type = record.type ?? record.code;
    this.errorType = typeof type === "string" && type !== "" ? type : fallbackType;
    this.errorMessage = typeof record.message === "string" ? record.message : undefined;
  }
}

/** How a stream ended (04 §4.3), with `terminal_error` for an upstream error event. */
export type StreamEnd =
  | "complete"
  | "terminal_error"
  | "compatibility_eof"
  | "premature_eof"
  | "empty_eof"
  | "malformed_eof";

/** Provider `stream_completion_policy`: whether a usage-complete stream without a marker passes. */
export type StreamCompletionPolicy = "strict" | "compatible" | "permissive_observe";

/** Scanner facts needed at EOF; {@linkcode SseScanner} satisfies this after `end()`. */
export interface ScanFacts {
  readonly endedMidFrame: boolean;
  readonly oversizeFrames: number;
}

/** Classifies a stream after upstream EOF; only `complete` and `compatibility_eof` are successes. */
export function classifyStreamEnd(
  observer: StreamObserver,
  scan: ScanFacts,
  policy: StreamCompletionPolicy = "strict",
): StreamEnd {
  if (observer.terminal === "done") return "complete";
  if (observer.terminal === "error") return "terminal_error";
  if (scan.endedMidFrame || scan.oversizeFrames > 0 || observer.parseErrors > 0) {
    return "malformed_eof";
  }
  if (!observer.sawPayload) return "empty_eof";
  if (observer.usageComplete && policy !== "strict") return "compatibility_eof";
  return "premature_eof";
}

/**
 * True when the JSON text has the key `name` followed by `:` and a non-null
 * value. Inside JSON strings every quote is escaped, so `"name":` only matches
 * real keys; a false positive only costs one JSON.parse.
 */
export function hasNonNullKey(json: string, name: string): boolean {
  return hasValue(json, name + '"');
}

// Patterns start after the opening quote: V8 finds a rare first letter far
// faster than a `"`, which occurs every few characters in JSON.
const USAGE_KEY = 'usage"';
const FINISH_REASON_KEY = 'finish_reason"';
// How an OpenAI delta chunk with one choice and nothing else to report ends.
const PLAIN_CHUNK_END = '"finish_reason":null}],"usage":null}';
const PLAIN_CHUNK_END_NO_USAGE = '"finish_reason":null}]}';

/** `hasNonNullKey` with a precomputed `name"` pattern. */
export function hasValue(json: string, pattern: string): boolean {
  let at = json.indexOf(pattern);
  while (at !== -1) {
    if (json.charCodeAt(at - 1) === 0x22) {
      let i = skipSpace(json, at + pattern.length);
      if (json.charCodeAt(i) === 0x3a) {
        i = skipSpace(json, i + 1);
        if (i < json.length && json.charCodeAt(i) !== 0x6e) return true; // not `null`
      }
    }
    at = json.indexOf(pattern, at + 1);
  }
  return false;
}

/** True when the first key of a JSON object text is `error` (a bare OpenAI error chunk). */
function startsWithErrorKey(json: string): boolean {
  const i = skipSpace(json, 0);
  if (json.charCodeAt(i) !== 0x7b) return false;
  return json.startsWith('"error"', skipSpace(json, i + 1));
}

function skipSpace(s: string, i: number): number {
  let c = s.charCodeAt(i);
  while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = s.charCodeAt(++i);
  return i;
}

/** Parses JSON text that must be an object; undefined for anything else. */
export function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    return asRecord(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : undefined;
}

/** Longest raw value kept in the implausible-usage note. */
const MAX_RAW_CHARS = 64;

/** `holder[key]` as a token count (see {@linkcode toCount}). */
function countOf(holder: Record<string, unknown>, key: string, bad: string[]): number {
  return toCount(holder[key], key, bad);
}

/**
 * Token count coercion (04 §5.3, narrowed by issue #12): absent or null is 0;
 * a non-negative integer up to {@linkcode MAX_TOKENS_PER_REQUEST}, as a number
 * or a string of digits, is taken; anything else is implausible, counts as 0
 * and is noted in `bad` with its raw value.
 */
function toCount(value: unknown, field: string, bad: string[]): number {
  if (value === undefined || value === null) return 0;
  let n = Number.NaN;
  if (typeof value === "number") n = value;
  else if (typeof value === "string" && /^\s*\d+\s*$/.test(value)) n = Number(value);
  if (Number.isInteger(n) && n >= 0 && n <= MAX_TOKENS_PER_REQUEST) return n;
  const raw = typeof value === "string" ? JSON.stringify(value) : String(value);
  bad.push(`${field}=${boundText(raw, MAX_RAW_CHARS)}`);
  return 0;
}

function noteImplausible(usage: Usage, bad: readonly string[]): Usage {
  if (bad.length > 0) {
    usage.implausibleUsage = `upstream reported an implausible value: ${bad.join(", ")}`;
  }
  return usage;
}

function firstPositive(u: Record<string, unknown>, keys: readonly string[], bad: string[]): number {
  for (const key of keys) {
    const n = countOf(u, key, bad);
    if (n > 0) return n;
  }
  return 0;
}

/** µ$ keys first, then dollar keys (04 §5.4); the first usable one wins. */
const MICROS_KEYS = [
  "cost_microdollars",
  "total_cost_microdollars",
  "cost_micros",
  "total_cost_micros",
];
const DOLLAR_KEYS = ["cost_usd", "total_cost_usd"];

function withCost(usage: Usage, u: Record<string, unknown>, root?: Record<string, unknown>): Usage {
  const cost = providerCostMicros(u, root);
  if (cost !== undefined) usage.providerCostMicros = cost;
  return usage;
}

function providerCostMicros(
  u: Record<string, unknown>,
  root?: Record<string, unknown>,
): number | undefined {
  for (const key of MICROS_KEYS) {
    const n = toAmount(u[key]);
    if (n !== undefined) return Math.round(n);
  }
  for (const holder of [u, asRecord(u.billing), asRecord(root?.billing)]) {
    if (holder === undefined) continue;
    for (const key of DOLLAR_KEYS) {
      const n = toAmount(holder[key]);
      if (n !== undefined) return Math.round(n * 1e6);
    }
  }
  return undefined;
}

function toAmount(value: unknown): number | undefined {
  let n: number;
  if (typeof value === "number") n = value;
  else if (typeof value === "string" && value.trim() !== "") n = Number(value);
  else return undefined;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** The `encrypted_content` of the reasoning items in a Response's `output`. */
export function encryptedReasoningOf(output: unknown): string[] {
  const found: string[] = [];
  if (!Array.isArray(output)) return found;
  for (const item of output) {
    const r = asRecord(item);
    if (r?.type === "reasoning" && typeof r.encrypted_content === "string") {
      found.push(r.encrypted_content);
    }
  }
  return found;
}

/** What a terminal error event says. */
export interface StreamErrorInfo {
  /** Protocol error type, e.g. `api_error`, `overloaded_error`, `timeout`. */
  type: string;
  message: string;
  /** OpenAI `code`; null when absent. */
  code?: string;
  /** Responses API: the id and model the stream announced, and the next sequence number. */
  responseId?: string;
  model?: string;
  sequenceNumber?: number;
}

const ENCODER = new TextEncoder();

/**
 * Bytes of one terminal SSE error event in the client's protocol, sent when the
 * upstream stream is cut or stalls after hand-off (STYLE §5, 09-decisions). We
 * never invent `[DONE]` or `message_stop`: a cut stream must not look complete.
 */
export function errorEvent(protocol: Wire, error: StreamErrorInfo): Uint8Array {
  if (protocol === "responses") {
    // The Responses API's own failure: a `response.failed` whose response carries the error.
    const body = JSON.stringify({
      type: "response.failed",
      sequence_number: error.sequenceNumber ?? 0,
      response: {
        id: error.responseId ?? "resp_failed",
        object: "response",
        created_at: Math.floor(Date.now() / 1000),
        status: "failed",
        error: { code: error.code ?? "server_error", message: error.message },
        incomplete_details: null,
        model: error.model ?? null,
        output: [],
        usage: null,
      },
    });
    return ENCODER.encode(`event: response.failed\ndata: ${body}\n\n`);
  }
  if (protocol === "anthropic") {
    const body = JSON.stringify({
      type: "error",
      error: { type: error.type, message: error.message },
    });
    return ENCODER.encode(`event: error\ndata: ${body}\n\n`);
  }
  const body = JSON.stringify({
    error: { message: error.message, type: error.type, param: null, code: error.code ?? null },
  });
  return ENCODER.encode(`data: ${body}\n\n`);
}
