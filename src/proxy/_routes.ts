/**
 * Which providers a request may go to, and over which protocol (spec 03 §3,
 * 04 §7): the client's own protocol when a provider serves the model over it,
 * else (or after those, when they cannot serve) the other protocol through the
 * transcoder. With `prefer_native = false` both kinds rank together by score.
 */
import type { Protocol } from "../core/protocol.ts";
import { PROTOCOL_ENDPOINT } from "../core/protocol.ts";
import type { ModelEntry } from "../catalog/catalog.ts";
import { ProxyError } from "../core/errors.ts";
import { invalidRequest } from "./envelope.ts";
import { lossMessage, transcodeRequest } from "./translate/transcode.ts";
import type { Transcoding } from "./translate/transcode.ts";
import type { TranscoderSettings } from "./translate/types.ts";
import {
  commonImages,
  modelBudget,
  thinkingAsked,
  thinkingRefusal,
} from "../routing/capabilities.ts";
import type { CapabilityBook, ModelCapability } from "../routing/capabilities.ts";

/** Providers decided together, and the upstream protocol they share (mixed: undefined). */
export interface RouteTier {
  providers: ReadonlySet<string>;
  protocol?: Protocol;
}

/** The providers a request may use, in the order they are tried. */
export interface Routes {
  /** Decided in turn: the next tier is used only when the one before has no candidate. */
  tiers: RouteTier[];
  /** Every provider of every tier. */
  providers: ReadonlySet<string>;
  /** Entries of the providers used (context limits). */
  entries: readonly ModelEntry[];
  /** Provider → protocol, present only when some provider needs transcoding. */
  upstreamOf?: ReadonlyMap<string, Protocol>;
  /** The request translated for the other protocol's providers. */
  transcode?: Transcoding;
}

function providerSet(entries: readonly ModelEntry[]): Set<string> {
  const set = new Set<string>();
  for (const e of entries) set.add(e.providerId);
  return set;
}

/**
 * Resolves the routes of one request. Throws the 400 that names the right
 * endpoint when only the other protocol serves the model and transcoding is
 * off, and the loss 400 under `loss_policy = "reject"`.
 */
export function resolveRoutes(
  offered: readonly ModelEntry[],
  client: Protocol,
  request: { body: Record<string, unknown>; modelId: string },
  settings: TranscoderSettings | undefined,
  capabilities?: CapabilityBook,
): Routes {
  const all = capabilities === undefined || capabilities.empty
    ? offered
    : thinkingGate(offered, client, request, capabilities);
  let foreign = 0;
  for (const e of all) if (e.protocol !== client) foreign++;
  if (foreign === 0) {
    // The native path: what it was before transcoding existed.
    const providers = providerSet(all);
    return { tiers: [{ providers, protocol: client }], providers, entries: all };
  }
  const native = all.filter((e) => e.protocol === client);
  if (settings === undefined) {
    if (native.length > 0) return nativeOnly(native, client);
    const other: Protocol = client === "openai" ? "anthropic" : "openai";
    throw invalidRequest(
      `Model '${request.modelId}' uses the ${other === "openai" ? "OpenAI" : "Anthropic"} ` +
        `protocol. Use ${PROTOCOL_ENDPOINT[other]} instead of ${PROTOCOL_ENDPOINT[client]}.`,
      "model",
    );
  }
  const forModel = capabilities === undefined || capabilities.empty
    ? settings
    : modelSettings(settings, all, client, request.modelId, capabilities);
  const transcode = transcodeRequest(client, request.body, request.modelId, forModel);
  if (settings.lossPolicy === "reject" && transcode.losses.length > 0) {
    // Native accounts can still serve it whole; only when none exists is it refused.
    if (native.length > 0) return nativeOnly(native, client);
    throw new ProxyError("invalid_request", lossMessage(transcode.losses), {
      status: 400,
      param: transcode.losses[0].field,
    });
  }
  const upstreamOf = new Map<string, Protocol>();
  for (const e of all) upstreamOf.set(e.providerId, e.protocol);
  const foreignTier = {
    providers: providerSet(all.filter((e) => e.protocol !== client)),
    protocol: transcode.upstream,
  };
  const providers = providerSet(all);
  const tiers: RouteTier[] = native.length === 0
    ? [foreignTier]
    : settings.preferNative
    ? [{ providers: providerSet(native), protocol: client }, foreignTier]
    : [{ providers }];
  return { tiers, providers, entries: all, upstreamOf, transcode };
}

function nativeOnly(native: readonly ModelEntry[], client: Protocol): Routes {
  const providers = providerSet(native);
  return { tiers: [{ providers, protocol: client }], providers, entries: native };
}

/**
 * Gate 10 (spec 03 §4): when the request asks for thinking, providers whose
 * model is stated not to think, or not at the effort asked, are left out;
 * with none left the request is refused with a capability error. Nothing
 * stated about the model lets every provider through, as before.
 */
function thinkingGate(
  offered: readonly ModelEntry[],
  client: Protocol,
  request: { body: Record<string, unknown>; modelId: string },
  book: CapabilityBook,
): readonly ModelEntry[] {
  const ask = thinkingAsked(client, request.body);
  if (ask === undefined) return offered;
  const kept: ModelEntry[] = [];
  let why: string | undefined;
  for (const e of offered) {
    const refusal = thinkingRefusal(book.get(e.providerId, request.modelId), ask);
    if (refusal === undefined) kept.push(e);
    else why ??= refusal;
  }
  if (kept.length > 0) return kept;
  throw new ProxyError(
    "invalid_request",
    `Model '${request.modelId}' is available, but no eligible provider is known to support ` +
      `requested thinking controls (thinking capability status: ${why}).`,
    {
      status: 400,
      param: ask.fields[0],
      capability: { name: "thinking", requestedFields: ask.fields, model: request.modelId },
    },
  );
}

/**
 * The transcoder's settings for one model: thinking on with the model's own
 * budgets when a provider of the other protocol states it thinks, and the
 * image sources its providers state they take (all of them must).
 */
function modelSettings(
  settings: TranscoderSettings,
  entries: readonly ModelEntry[],
  client: Protocol,
  modelId: string,
  book: CapabilityBook,
): TranscoderSettings {
  let thinking: ModelCapability["thinking"];
  let images: ModelCapability["images"];
  for (const e of entries) {
    if (e.protocol === client) continue;
    const cap = book.get(e.providerId, modelId);
    if (cap?.thinking?.status === "supported") thinking ??= cap.thinking;
    images = commonImages(images, cap?.images);
  }
  if (thinking === undefined && images === undefined) return settings;
  const out: TranscoderSettings = { ...settings };
  if (thinking !== undefined) {
    const t = thinking;
    out.thinking = true;
    out.budgets = {
      low: modelBudget(t, "low", settings.budgets),
      medium: modelBudget(t, "medium", settings.budgets),
      high: modelBudget(t, "high", settings.budgets),
    };
    if (t.efforts !== undefined) out.efforts = t.efforts;
  }
  if (images !== undefined) {
    out.images = images;
    out.vision = images.base64 || images.url;
  }
  return out;
}
