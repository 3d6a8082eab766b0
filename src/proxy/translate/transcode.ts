/**
 * The data plane's one entry into translation: a client request prepared for
 * an upstream of the other protocol, and the functions that bring that
 * upstream's answers, errors and streams back in the client's protocol.
 */
import type { Protocol } from "../../core/protocol.ts";
import { toAnthropicRequest } from "./request_to_anthropic.ts";
import { toOpenAiRequest } from "./request_to_openai.ts";
import {
  anthropicToOpenAiResponse,
  openAiToAnthropicResponse,
  translateErrorBody,
} from "./response.ts";
import { createStreamTranslator } from "./stream.ts";
import type { StreamTranslator } from "./stream.ts";
import { asRecord, describeLosses } from "./types.ts";
import type { Loss, TranscoderSettings, TranslationContext } from "./types.ts";

/** Response header that lists what a transcoded request lost (`field (kind)`, comma-separated). */
export const TRANSCODE_WARNING_HEADER = "x-proxy-transcode-warnings";

/** One request translated for one upstream protocol. */
export interface Transcoding {
  client: Protocol;
  upstream: Protocol;
  /** The upstream body, encoded. */
  bytes: Uint8Array<ArrayBuffer>;
  losses: readonly Loss[];
  /** {@linkcode TRANSCODE_WARNING_HEADER}'s value, when something was lost. */
  warnings?: string;
  context: TranslationContext;
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/** Translates a client body for an upstream that speaks the other protocol. */
export function transcodeRequest(
  client: Protocol,
  body: Record<string, unknown>,
  modelId: string,
  settings: TranscoderSettings,
): Transcoding {
  const upstream: Protocol = client === "openai" ? "anthropic" : "openai";
  const t = client === "openai"
    ? toAnthropicRequest(body, modelId, settings)
    : toOpenAiRequest(body, modelId, settings);
  return {
    client,
    upstream,
    bytes: ENCODER.encode(JSON.stringify(t.body)) as Uint8Array<ArrayBuffer>,
    losses: t.losses,
    warnings: t.losses.length > 0 ? describeLosses(t.losses, 20) : undefined,
    context: t.context,
  };
}

/** The 400 message for `loss_policy = "reject"` (spec 01 §3.1 step 8). */
export function lossMessage(losses: readonly Loss[]): string {
  return `Request cannot be transcoded without losing information: ${describeLosses(losses)}`;
}

/** A non-streamed upstream answer in the client's protocol; undefined when it is not JSON. */
export function transcodeResponse(
  t: Transcoding,
  parsed: unknown,
): Uint8Array<ArrayBuffer> | undefined {
  const obj = asRecord(parsed);
  if (obj === undefined) return undefined;
  const out = t.upstream === "anthropic"
    ? anthropicToOpenAiResponse(obj, t.context)
    : openAiToAnthropicResponse(obj, t.context);
  return ENCODER.encode(JSON.stringify(out)) as Uint8Array<ArrayBuffer>;
}

/** An upstream error body in the client's envelope (04 §7.3). */
export function transcodeError(
  t: Transcoding,
  status: number,
  bytes: Uint8Array,
  parsed: unknown,
): Uint8Array<ArrayBuffer> {
  const text = parsed === undefined ? DECODER.decode(bytes) : "";
  const out = translateErrorBody(t.upstream, t.client, status, parsed, text);
  return ENCODER.encode(JSON.stringify(out)) as Uint8Array<ArrayBuffer>;
}

/** A frame-by-frame translator for this request's upstream stream. */
export function transcodeStream(t: Transcoding): StreamTranslator {
  return createStreamTranslator(t.upstream, t.context);
}

/**
 * Headers of the client's protocol that mean nothing to the other one's
 * upstream (`anthropic-beta` would make some OpenAI-compatible gateways
 * refuse the request); removed from a transcoded request's upstream headers.
 */
export function dropForeignHeaders(headers: Record<string, string>, upstream: Protocol): void {
  const prefix = upstream === "openai" ? "anthropic-" : "openai-";
  for (const name of Object.keys(headers)) {
    if (name.startsWith(prefix)) delete headers[name];
  }
}
