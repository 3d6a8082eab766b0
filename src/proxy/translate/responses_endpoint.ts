/**
 * `POST /v1/responses` on top of the Chat Completions data plane (issue #15).
 * The request goes through the same pipeline as `/v1/chat/completions` (one
 * stats row, routing, failover, and the Messages transcoder for
 * Anthropic-only models), its body translated at intake; the answer comes
 * back as a Response object or a Responses event stream.
 */
import { responsesToChat } from "./responses_request.ts";
import type { ResponsesContext } from "./responses_request.ts";
import { chatToResponse } from "./responses_reply.ts";
import { chatToResponsesStream } from "./responses_stream.ts";
import { asRecord } from "./types.ts";
import { ProxyError } from "../../core/errors.ts";
import { lossMessage } from "./transcode.ts";
import type { Loss, TranscoderSettings } from "./types.ts";
import type { Surface } from "../../core/protocol.ts";

/** Replaces a client body at intake with the Chat Completions body the pipeline runs. */
export interface ClientSurface {
  /** The endpoint, as the stats record it. */
  readonly name: Surface;
  /** The chat body, what it lost and the warning header's value; throws the 400 for a body it refuses. */
  toChat(body: Record<string, unknown>): {
    body: Record<string, unknown>;
    losses: readonly Loss[];
    warnings?: string;
    /**
     * Set when `loss_policy = "reject"` refuses the lossy translation: the
     * request may still pass through to a provider that serves it natively.
     */
    refused?: ProxyError;
  };
  /** Set by the data plane when a provider served the surface natively: the answer stays as is. */
  passedThrough?: boolean;
}

/**
 * Runs one Responses request through `handle` (the chat pipeline, given the
 * surface that translates its body) and rewrites the answer. Errors are
 * already in OpenAI's envelope, which the Responses API shares.
 */
export async function serveResponses(
  settings: TranscoderSettings | undefined,
  handle: (surface: ClientSurface) => Promise<Response>,
): Promise<Response> {
  let ctx: ResponsesContext | undefined;
  const surface: ClientSurface = {
    name: "responses",
    toChat(body) {
      // Losses are judged by the data plane: a pass-through account loses nothing.
      const t = responsesToChat(body, undefined);
      ctx = t.context;
      const refused = settings?.lossPolicy === "reject" && t.losses.length > 0
        ? new ProxyError("invalid_request", lossMessage(t.losses), {
          status: 400,
          param: t.losses[0].field,
        })
        : undefined;
      return { body: t.body, losses: t.losses, warnings: t.warnings, refused };
    },
  };
  const res = await handle(surface);
  if (ctx === undefined || surface.passedThrough || res.status >= 400 || res.body === null) {
    return res;
  }
  const headers = new Headers(res.headers);
  headers.delete("content-length");
  if ((res.headers.get("content-type") ?? "").includes("text/event-stream")) {
    return new Response(res.body.pipeThrough(chatToResponsesStream(ctx)), {
      status: res.status,
      headers,
    });
  }
  let parsed: unknown;
  const text = await res.text();
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const completion = asRecord(parsed);
  // Not a chat completion (an upstream that answered something else): it goes back as it came.
  if (completion === undefined) return new Response(text, { status: res.status, headers });
  headers.set("content-type", "application/json");
  return new Response(JSON.stringify(chatToResponse(completion, ctx)), {
    status: res.status,
    headers,
  });
}
