/**
 * A loopback provider that speaks only the OpenAI Responses API (`POST
 * /v1/responses`, streamed or not, and `GET /v1/models`), for the
 * pass-through tests of issue #15. It answers `native: <last user text>`,
 * reports fixed usage, and mints encrypted reasoning bound to the account
 * key that asked for it: a request carrying another key's reasoning gets the
 * 400 a real provider gives (`invalid_encrypted_content`).
 */

type Obj = Record<string, unknown>;

/** The usage every answer reports. */
export const NATIVE_USAGE = {
  input_tokens: 40,
  input_tokens_details: { cached_tokens: 8 },
  output_tokens: 12,
  output_tokens_details: { reasoning_tokens: 3 },
  total_tokens: 52,
};

/** One request the mock saw. */
export interface SeenRequest {
  path: string;
  key: string;
  body: Obj;
}

export interface ResponsesUpstream extends AsyncDisposable {
  url: string;
  seen: SeenRequest[];
  /** Keys answered with a 429 (rate limit) until removed. */
  limited: Set<string>;
  /** When set, streams are cut after this many events (no terminal event). */
  dropAfterEvents?: number;
  /** When set, streams end with `response.failed` (a server error) instead of completing. */
  endFailed: boolean;
  close(): Promise<void>;
}

function lastUserText(input: unknown): string {
  if (typeof input === "string") return input;
  if (!Array.isArray(input)) return "";
  for (let i = input.length - 1; i >= 0; i--) {
    const item = input[i] as Obj;
    if (item?.role !== "user") continue;
    if (typeof item.content === "string") return item.content;
    if (Array.isArray(item.content)) {
      return item.content.map((p) => (p as Obj).text ?? "").join(" ");
    }
  }
  return "";
}

function error(status: number, code: string, message: string): Response {
  return Response.json({
    error: { message, type: "invalid_request_error", param: null, code },
  }, { status });
}

/** Options for {@linkcode startResponsesUpstream}. */
export interface ResponsesUpstreamOptions {
  /** Pause between stream events; default 1 ms, 0 sends them all at once (benchmarks). */
  eventDelayMs?: number;
  /** Keep `seen`; default true, false in benchmarks so memory stays flat. */
  record?: boolean;
}

/** Starts the mock on `127.0.0.1` with an ephemeral port. */
export function startResponsesUpstream(
  models: string[],
  options: ResponsesUpstreamOptions = {},
): Promise<ResponsesUpstream> {
  const delayMs = options.eventDelayMs ?? 1;
  const record = options.record ?? true;
  const seen: SeenRequest[] = [];
  const ac = new AbortController();
  let minted = 0;
  const state = {
    limited: new Set<string>(),
    dropAfterEvents: undefined as number | undefined,
    endFailed: false,
  };
  const { promise, resolve } = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen: ({ port }) => resolve(port),
  }, async (req) => {
    const path = new URL(req.url).pathname;
    const key = (req.headers.get("authorization") ?? "").replace(/^Bearer /, "");
    if (req.method === "GET" && path.endsWith("/models")) {
      return Response.json({ object: "list", data: models.map((id) => ({ id, object: "model" })) });
    }
    if (req.method !== "POST" || !path.endsWith("/responses")) {
      return error(
        404,
        "not_found",
        `No route ${req.method} ${path}: this provider serves /responses`,
      );
    }
    const body = await req.json() as Obj;
    const n = seen.length + 1;
    if (record) seen.push({ path, key, body });
    if (state.limited.has(key)) return error(429, "rate_limit_exceeded", "Rate limit reached");
    for (const item of Array.isArray(body.input) ? body.input as Obj[] : []) {
      const blob = item?.encrypted_content;
      if (
        item?.type === "reasoning" && typeof blob === "string" && !blob.startsWith(`enc:${key}:`)
      ) {
        return error(
          400,
          "invalid_encrypted_content",
          "The encrypted content could not be verified",
        );
      }
    }
    const id = `resp_mock${n}`;
    const model = String(body.model);
    const text = `native: ${lastUserText(body.input)}`;
    const include = Array.isArray(body.include) ? body.include : [];
    const output: Obj[] = [];
    if (include.includes("reasoning.encrypted_content")) {
      output.push({
        type: "reasoning",
        id: `rs_mock${n}`,
        summary: [],
        encrypted_content: `enc:${key}:${++minted}`,
      });
    }
    const message = {
      type: "message",
      id: `msg_mock${n}`,
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text, annotations: [] }],
    };
    output.push(message);
    const response = (status: string, out: Obj[], usage: Obj | null) => ({
      id,
      object: "response",
      created_at: 1_700_000_000,
      status,
      model,
      output: out,
      usage,
      error: null,
      incomplete_details: null,
    });
    if (body.stream !== true) return Response.json(response("completed", output, NATIVE_USAGE));
    const events: Obj[] = [
      { type: "response.created", response: response("in_progress", [], null) },
      { type: "response.in_progress", response: response("in_progress", [], null) },
    ];
    output.forEach((item, i) => {
      if (item.type === "reasoning") {
        events.push({ type: "response.output_item.added", output_index: i, item });
        events.push({ type: "response.output_item.done", output_index: i, item });
        return;
      }
      const itemId = message.id;
      events.push({
        type: "response.output_item.added",
        output_index: i,
        item: { ...message, status: "in_progress", content: [] },
      });
      events.push({
        type: "response.content_part.added",
        item_id: itemId,
        output_index: i,
        content_index: 0,
        part: { type: "output_text", text: "", annotations: [] },
      });
      // 8 characters a delta, as the chat mock streams, so the bench compares like with like.
      for (let at = 0; at < text.length; at += 8) {
        events.push({
          type: "response.output_text.delta",
          item_id: itemId,
          output_index: i,
          content_index: 0,
          delta: text.slice(at, at + 8),
        });
      }
      events.push({
        type: "response.output_text.done",
        item_id: itemId,
        output_index: i,
        content_index: 0,
        text,
      });
      events.push({
        type: "response.content_part.done",
        item_id: itemId,
        output_index: i,
        content_index: 0,
        part: message.content[0],
      });
      events.push({ type: "response.output_item.done", output_index: i, item: message });
    });
    events.push(
      state.endFailed
        ? {
          type: "response.failed",
          response: {
            ...response("failed", output, NATIVE_USAGE),
            error: { code: "server_error", message: "The model crashed" },
          },
        }
        : { type: "response.completed", response: response("completed", output, NATIVE_USAGE) },
    );
    const cut = state.dropAfterEvents;
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        for (let i = 0; i < events.length; i++) {
          if (cut !== undefined && i === cut) {
            controller.error(new Error("connection dropped"));
            return;
          }
          const ev: Obj = { ...events[i], sequence_number: i };
          const frame = `event: ${ev.type}\ndata: ${JSON.stringify(ev)}\n\n`;
          controller.enqueue(encoder.encode(frame));
          if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        }
        controller.close();
      },
    });
    return new Response(stream, { headers: { "content-type": "text/event-stream" } });
  });
  const close = async () => {
    if (ac.signal.aborted) return;
    ac.abort();
    await server.finished;
  };
  return promise.then((port): ResponsesUpstream => ({
    url: `http://127.0.0.1:${port}/v1`,
    seen,
    get limited() {
      return state.limited;
    },
    get dropAfterEvents() {
      return state.dropAfterEvents;
    },
    set dropAfterEvents(n: number | undefined) {
      state.dropAfterEvents = n;
    },
    get endFailed() {
      return state.endFailed;
    },
    set endFailed(on: boolean) {
      state.endFailed = on;
    },
    close,
    [Symbol.asyncDispose]() {
      return close();
    },
  }));
}
