/**
 * Public types of the mock upstream (see `mock_upstream.ts`). Kept apart so the
 * dialect renderers can share them without importing the server module.
 */

/** Wire protocol of a request or response. */
export type MockDialect = "openai" | "anthropic";

/** Which route of the mock a request hit. */
export type MockRoute =
  | "chat_completions"
  | "messages"
  | "count_tokens"
  | "models"
  | "model"
  | "unknown";

/** Artificial latency applied to every request; all default to 0 (no timers at all). */
export interface MockLatency {
  /** Before response headers. */
  headersMs?: number;
  /** After headers, before the first body byte (streams only). */
  firstByteMs?: number;
  /** Between two stream frames. */
  perFrameMs?: number;
}

/** Forces the tool call a completion replies with. */
export interface MockToolCall {
  /** Tool to call; defaults to `tool_choice`'s function, else the first tool in the request. */
  name?: string;
  /** Arguments; default is generated from the tool's JSON schema. */
  arguments?: Record<string, unknown>;
}

/** Options of {@linkcode startMockUpstream}; every field is optional. */
export interface MockOptions {
  /** Accepted account keys. When set, any other key (or none) gets a 401. */
  keys?: readonly string[];
  /** Model ids listed by `GET /models`. Default `["mock-small", "mock-large"]`. */
  models?: readonly string[];
  /** When true, a completion for a model not in `models` gets a 404 model-not-found. */
  strictModels?: boolean;
  /** Shape of `GET /models`. Default `"openai"`. */
  modelsShape?: MockDialect;
  /** Reply text; default `echo: <last user text>` (truncated to 80 chars). */
  reply?: string | ((request: RecordedRequest) => string);
  /**
   * Reply with a tool call when the request has tools. Without this, a tool call
   * is only made when the last user text contains "use the tool".
   */
  toolCall?: boolean | MockToolCall;
  /** `"prefix"` simulates a per-key prompt cache (longest previously seen message prefix). */
  cache?: "none" | "prefix";
  /** OpenAI only: `completion_tokens_details.reasoning_tokens` (added to `completion_tokens`). */
  reasoningTokens?: number;
  /**
   * What the Anthropic `message_delta.usage` carries. `"cumulative"` (default, like the
   * current API): input, cache and output totals; `"output_only"`: just `output_tokens`.
   */
  anthropicDeltaUsage?: "cumulative" | "output_only";
  /** Characters per streamed text delta. Default 8. */
  streamPieceChars?: number;
  /** Benchmark knobs, all 0 by default. */
  latency?: MockLatency;
  /** Path prefix of every route. Default `"/v1"`. Fixed at start. */
  basePath?: string;
  /** Keep `requests`. Default true; set false in long benchmarks so memory stays flat. */
  record?: boolean;
}

/**
 * One scripted misbehaviour. Fields combine: e.g. `{ delayMs: 50, status: 503 }`.
 * Stream-shaping fields (`dropAfterFrames`, `stallAfterFrames`, `errorEventFirst`,
 * `midStreamError`, `chunkSplit`, `crlf`) only change 2xx responses.
 */
export interface MockFault {
  /** Answer with this status (≥ 400) and a protocol-shaped error body. */
  status?: number;
  /** `retry-after` header: seconds, or an HTTP date string sent as is. */
  retryAfter?: number | string;
  /** Overrides `error.type` in the error body. */
  errorType?: string;
  /** Overrides OpenAI `error.code`. */
  errorCode?: string;
  /** Overrides the error message. */
  message?: string;
  /** Replaces the whole error body (a string is sent verbatim, anything else as JSON). */
  body?: unknown;
  /** Extra response headers (error or success). */
  headers?: Record<string, string>;
  /** Wait before sending response headers. */
  delayMs?: number;
  /** Wait after headers before the first body byte. */
  firstByteDelayMs?: number;
  /** Wait between frames, on top of `latency.perFrameMs`. */
  frameDelayMs?: number;
  /**
   * Send this many SSE frames, then cut the connection (body errors, no terminal frame).
   * Non-streaming responses are cut after half of the JSON bytes.
   */
  dropAfterFrames?: number;
  /** Send this many frames (non-stream: half the JSON), then go silent until the client aborts. */
  stallAfterFrames?: number;
  /** A 200 stream whose first event is an error of this type (e.g. `"overloaded_error"`). */
  errorEventFirst?: string;
  /** A 200 stream that sends `afterFrames` frames, then an error event, then ends. */
  midStreamError?: { afterFrames: number; type?: string; message?: string };
  /** Write each frame in awkward byte pieces (`"bytes"`) or fixed `n`-byte pieces. */
  chunkSplit?: "bytes" | number;
  /** End SSE lines with CRLF instead of LF. */
  crlf?: boolean;
  /**
   * Compress the body (success or error) and say so in `content-encoding`:
   * `"deflate"` is zlib-wrapped as HTTP means it, `"deflate-raw"` a bare
   * deflate stream sent as `deflate` (some servers do), `"zstd-fake"` leaves
   * the bytes alone but labels them `zstd`, a coding nobody decodes.
   */
  contentEncoding?: "deflate" | "deflate-raw" | "zstd-fake";
  /** How many matching requests this fault applies to; unlimited when absent. */
  times?: number;
  /** Which requests it applies to; default: completions (`chat/completions`, `messages`). */
  match?: (request: RecordedRequest) => boolean;
}

/**
 * Token counts the mock reported, normalized the way EggPool extracts them:
 * OpenAI `inputTokens` = `prompt_tokens` (includes cached), `outputTokens` =
 * `completion_tokens` (includes reasoning); Anthropic `inputTokens` = `input_tokens`
 * (excludes cache read/write).
 */
export interface MockUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
}

/**
 * How a request ended on the mock's side: full body sent, an error status or
 * error event sent, connection cut by `dropAfterFrames`, client went away, or the
 * mock was closed underneath it.
 */
export type MockOutcome = "completed" | "error" | "dropped" | "aborted" | "shutdown";

/** What the mock received, in arrival order. Fields after `receivedAt` fill in as it answers. */
export interface RecordedRequest {
  /** Index in `requests` (arrival order); -1 when `record: false`. */
  readonly seq: number;
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** Query string including `?`, or `""`. */
  readonly query: string;
  readonly route: MockRoute;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>;
  /** `x-api-key`, else the `Authorization: Bearer` token. */
  readonly key: string | undefined;
  /** `Date.now()` on arrival. */
  readonly receivedAt: number;
  /** The client's TCP port: requests that share it came over one kept-alive connection. */
  readonly remotePort?: number;
  /** Parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
  /** Raw body length in UTF-16 code units. */
  bodyChars: number;
  /** `body.model` when it is a string. */
  model: string | undefined;
  /** `body.stream === true`. */
  stream: boolean;
  /** The scripted fault applied, if any. */
  fault: MockFault | undefined;
  /** Status sent; undefined until headers went out. */
  status: number | undefined;
  /** Usage reported, set once the usage-bearing body or frame was written. */
  usage: MockUsage | undefined;
  /** The client went away before the response was complete. */
  aborted: boolean;
  outcome: MockOutcome | undefined;
  /** Resolves with the outcome once the mock is done with the request. */
  readonly done: Promise<MockOutcome>;
}
