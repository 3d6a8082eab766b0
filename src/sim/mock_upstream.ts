/**
 * A realistic LLM provider on loopback for proxy, routing and benchmark tests.
 * It speaks OpenAI Chat Completions and Anthropic Messages (streaming or not),
 * lists models, checks keys, simulates a per-key prompt cache, records what it
 * received, and misbehaves on cue through {@linkcode FaultScript}.
 *
 * @example
 * ```ts
 * await using mock = await startMockUpstream({ keys: ["k1", "k2"] });
 * mock.script.set("k1", { status: 429, retryAfter: 2, times: 1 });
 * // point the proxy's base_url at mock.url, send traffic, then:
 * // assert.equal(mock.requestsFor("k2").length, 1);
 * ```
 */
import { anthropicModel, anthropicModelList } from "./_mock_anthropic.ts";
import { respondCompletion } from "./_mock_complete.ts";
import {
  errorResponse,
  type Exchange,
  JSON_TYPE,
  jsonResponse,
  type MockState,
} from "./_mock_exchange.ts";
import { openaiError, openaiModel, openaiModelList } from "./_mock_openai.ts";
import { estimateTokens, PromptCache } from "./_mock_reply.ts";
import { FaultScript } from "./_mock_script.ts";
import { MockDropError, sleep } from "./_mock_stream.ts";
import type {
  MockDialect,
  MockOptions,
  MockOutcome,
  MockRoute,
  RecordedRequest,
} from "./_mock_types.ts";

export type {
  MockDialect,
  MockFault,
  MockLatency,
  MockOptions,
  MockOutcome,
  MockRoute,
  MockToolCall,
  MockUsage,
  RecordedRequest,
} from "./_mock_types.ts";
export { ANY_KEY, FaultScript } from "./_mock_script.ts";

/** A running mock provider. Close it (or `await using` it) before the test ends. */
export interface MockUpstream extends AsyncDisposable {
  /** Base URL including the base path, e.g. `http://127.0.0.1:40123/v1`. */
  readonly url: string;
  /** `http://127.0.0.1:PORT`, for clients that append `/v1` themselves (Anthropic SDK). */
  readonly origin: string;
  readonly port: number;
  /** Every request in arrival order. */
  readonly requests: RecordedRequest[];
  /** Per-key fault queues; `"*"` applies to every key. */
  readonly script: FaultScript;
  /** Requests that authenticated with `key` (undefined: sent no key). */
  requestsFor(key: string | undefined): RecordedRequest[];
  /** Changes options for later requests (e.g. a new `reply`). */
  configure(patch: Partial<MockOptions>): void;
  /** Requests open right now (arrived, not yet answered in full). */
  readonly active: number;
  /** Most requests open at once since start or the last `reset()`. */
  readonly peakActive: number;
  /** Forgets requests, faults, the prompt cache and `peakActive`. */
  reset(): void;
  /** Ends in-flight streams, stops the server. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_MODELS = ["mock-small", "mock-large"] as const;

/** Starts the mock on `127.0.0.1` with an ephemeral port. */
export function startMockUpstream(options: MockOptions = {}): Promise<MockUpstream> {
  const state: MockState = {
    options: { ...options },
    script: new FaultScript(),
    cache: new PromptCache(),
    requests: [],
    shutdown: new AbortController(),
    counter: 0,
  };
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
    onError(error) {
      if (!(error instanceof MockDropError)) console.error("Mock upstream failed:", error);
      return new Response(openaiError(500, { message: "Mock upstream failure" }), {
        status: 500,
        headers: { "content-type": JSON_TYPE },
      });
    },
  }, (request, info) => handle(state, request, (info.remoteAddr as Deno.NetAddr).port));
  const port = server.addr.port;
  const origin = `http://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      state.shutdown.abort();
      await server.shutdown();
    })();
    return closing;
  };
  return Promise.resolve({
    url: origin + basePath(state.options),
    origin,
    port,
    requests: state.requests,
    script: state.script,
    requestsFor: (key) => state.requests.filter((request) => request.key === key),
    configure: (patch) => Object.assign(state.options, patch),
    get active() {
      return state.active ?? 0;
    },
    get peakActive() {
      return state.peakActive ?? 0;
    },
    reset() {
      state.peakActive = state.active ?? 0;
      state.requests.length = 0;
      state.script.clear();
      state.cache.clear();
    },
    close,
    [Symbol.asyncDispose]: close,
  });
}

function basePath(options: MockOptions): string {
  return (options.basePath ?? "/v1").replace(/\/+$/, "");
}

/** The account key: `x-api-key` first, else an `Authorization: Bearer` token. */
function keyOf(headers: Headers): string | undefined {
  const apiKey = headers.get("x-api-key");
  if (apiKey) return apiKey;
  const match = /^Bearer\s+(.+)$/i.exec(headers.get("authorization") ?? "");
  return match ? match[1].trim() : undefined;
}

function routeOf(method: string, path: string, base: string): MockRoute {
  if (!path.startsWith(base + "/")) return "unknown";
  const rest = path.slice(base.length);
  if (method === "POST" && rest === "/chat/completions") return "chat_completions";
  if (method === "POST" && rest === "/messages") return "messages";
  if (method === "POST" && rest === "/messages/count_tokens") return "count_tokens";
  if (method === "GET" && rest === "/models") return "models";
  if (method === "GET" && rest.startsWith("/models/") && rest.length > 8) return "model";
  return "unknown";
}

function dialectOf(route: MockRoute, headers: Headers, options: MockOptions): MockDialect {
  if (route === "chat_completions") return "openai";
  if (route === "messages" || route === "count_tokens") return "anthropic";
  if (route === "models" || route === "model") return options.modelsShape ?? "openai";
  return headers.has("anthropic-version") ? "anthropic" : "openai";
}

function parseBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Creates the record (pushed at once, so order is arrival order) and its settle function. */
function recordArrival(state: MockState, request: Request, url: URL, remotePort?: number) {
  const { promise, resolve } = Promise.withResolvers<MockOutcome>();
  const record: RecordedRequest = {
    seq: state.options.record === false ? -1 : state.requests.length,
    method: request.method,
    path: url.pathname,
    query: url.search,
    route: routeOf(request.method, url.pathname, basePath(state.options)),
    headers: Object.fromEntries(request.headers),
    key: keyOf(request.headers),
    receivedAt: Date.now(),
    remotePort,
    body: undefined,
    bodyChars: 0,
    model: undefined,
    stream: false,
    fault: undefined,
    status: undefined,
    usage: undefined,
    aborted: false,
    outcome: undefined,
    done: promise,
  };
  if (record.seq >= 0) state.requests.push(record);
  const settle = (outcome: MockOutcome) => {
    if (record.outcome !== undefined) return;
    record.outcome = outcome;
    if (outcome === "aborted") record.aborted = true;
    resolve(outcome);
  };
  return { record, settle };
}

/** Fills the record's body fields; false when the client went away mid-upload. */
async function readBody(record: RecordedRequest, request: Request): Promise<boolean> {
  const text = request.body ? await request.text().catch(() => undefined) : "";
  if (text === undefined) return false;
  record.body = parseBody(text);
  record.bodyChars = text.length;
  const body = record.body as Record<string, unknown> | undefined;
  if (typeof body?.model === "string") record.model = body.model;
  record.stream = body?.stream === true;
  return true;
}

async function handle(state: MockState, request: Request, remotePort?: number): Promise<Response> {
  const url = new URL(request.url);
  const { record, settle } = recordArrival(state, request, url, remotePort);
  state.active = (state.active ?? 0) + 1;
  state.peakActive = Math.max(state.peakActive ?? 0, state.active);
  void record.done.then(() => state.active!--);
  if (!(await readBody(record, request))) {
    settle("aborted");
    return new Response(null, { status: 400 });
  }
  const dialect = dialectOf(record.route, request.headers, state.options);
  const serial = String(++state.counter).padStart(6, "0");
  const exchange: Exchange = {
    state,
    record,
    dialect,
    url,
    fault: undefined,
    serial,
    requestId: `req_mock${serial}`,
    settle,
  };
  if (record.route === "unknown") {
    return errorResponse(exchange, 404, {
      message: `Invalid URL (${request.method} ${url.pathname})`,
      code: null,
    });
  }
  const keys = state.options.keys;
  if (keys && (record.key === undefined || !keys.includes(record.key))) {
    return errorResponse(exchange, 401);
  }
  const fault = state.script.take(record);
  record.fault = fault;
  const scripted: Exchange = { ...exchange, fault };
  const delayMs = (fault?.delayMs ?? 0) + (state.options.latency?.headersMs ?? 0);
  if (delayMs > 0) {
    // request.signal is only touched here: Deno warns once when it is used at all.
    const both = AbortSignal.any([request.signal, state.shutdown.signal]);
    if (!(await sleep(delayMs, both))) {
      settle(state.shutdown.signal.aborted ? "shutdown" : "aborted");
      return new Response(null, { status: 503 });
    }
  }
  const response = fault?.status !== undefined && fault.status >= 400
    ? errorResponse(scripted, fault.status)
    : respond(scripted);
  return fault?.contentEncoding === undefined ? response : encoded(response, fault.contentEncoding);
}

/** The response with its body compressed as `coding` says (see `MockFault.contentEncoding`). */
function encoded(response: Response, coding: "deflate" | "deflate-raw" | "zstd-fake"): Response {
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  headers.set("content-encoding", coding === "zstd-fake" ? "zstd" : "deflate");
  const body = response.body === null || coding === "zstd-fake"
    ? response.body
    : response.body.pipeThrough(new CompressionStream(coding));
  return new Response(body, { status: response.status, headers });
}

function respond(exchange: Exchange): Response {
  const { state, record, url } = exchange;
  const models = state.options.models ?? DEFAULT_MODELS;
  switch (record.route) {
    case "models":
      return jsonResponse(
        exchange,
        exchange.dialect === "anthropic"
          ? anthropicModelList(models, url.searchParams)
          : openaiModelList(models),
      );
    case "model": {
      const id = decodeURIComponent(url.pathname.slice(url.pathname.lastIndexOf("/models/") + 8));
      if (!models.includes(id)) {
        return errorResponse(exchange, 404, { message: modelMissing(exchange, id) });
      }
      const model = exchange.dialect === "anthropic" ? anthropicModel(id) : openaiModel(id);
      return jsonResponse(exchange, JSON.stringify(model));
    }
    case "count_tokens":
      return jsonResponse(
        exchange,
        `{"input_tokens":${estimateTokens(record.bodyChars)}}`,
      );
    default:
      return completion(exchange, models);
  }
}

function completion(exchange: Exchange, models: readonly string[]): Response {
  const body = exchange.record.body;
  if (typeof body === "string") {
    return errorResponse(exchange, 400, { message: "The request body is not valid JSON" });
  }
  const isObject = typeof body === "object" && body !== null && !Array.isArray(body);
  if (!isObject || !Array.isArray((body as Record<string, unknown>).messages)) {
    return errorResponse(exchange, 400, { message: "messages: Field required" });
  }
  const model = exchange.record.model;
  if (model === undefined) {
    return errorResponse(exchange, 400, { message: "model: Field required" });
  }
  if (exchange.state.options.strictModels && !models.includes(model)) {
    return errorResponse(exchange, 404, { message: modelMissing(exchange, model) });
  }
  return respondCompletion(exchange);
}

function modelMissing(exchange: Exchange, model: string): string {
  return exchange.dialect === "anthropic"
    ? `model: ${model}`
    : `The model \`${model}\` does not exist or you do not have access to it.`;
}
