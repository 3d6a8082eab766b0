/**
 * Turning config rows and fetched model lists into catalog entries, with the
 * protocol and limits of each model resolved (spec 03 §1.3, 09-decisions).
 */
import type { Protocol } from "../core/protocol.ts";
import type { ResolvedConfig, ResolvedProviderConfig } from "../config/schema.ts";
import type { ModelEntry } from "./catalog.ts";

/** A model as a provider's models endpoint listed it. */
export interface ListedModel {
  id: string;
  /** Protocol the list's shape suggests: Anthropic-shaped lists → anthropic. */
  shape: Protocol;
  displayName?: string;
  maxContextTokens?: number;
  maxOutputTokens?: number;
}

type Override = ResolvedConfig["model_overrides"][string];

function overrideOf(
  config: ResolvedConfig,
  provider: ResolvedProviderConfig,
  modelId: string,
): Partial<Override> {
  const global = config.model_overrides[modelId] ?? {};
  const own = provider.model_overrides[modelId] ?? {};
  const merged: Record<string, unknown> = { ...global };
  for (const [k, v] of Object.entries(own)) if (v !== undefined) merged[k] = v;
  return merged as Partial<Override>;
}

/**
 * A model's protocol at one provider: the override, else the static row's,
 * else the provider's only protocol, else the shape of the list it came from.
 */
export function resolveProtocol(
  provider: ResolvedProviderConfig,
  override: Partial<Override>,
  fallback: Protocol | undefined,
): Protocol | undefined {
  if (override.protocol) return override.protocol;
  if (fallback && provider.protocols.includes(fallback)) return fallback;
  if (provider.protocols.length === 1) return provider.protocols[0];
  return fallback;
}

function entry(
  config: ResolvedConfig,
  provider: ResolvedProviderConfig,
  id: string,
  fields: {
    protocol?: Protocol;
    displayName?: string;
    maxContextTokens?: number;
    maxInputTokens?: number;
    maxOutputTokens?: number;
    source: ModelEntry["source"];
  },
): ModelEntry | undefined {
  const o = overrideOf(config, provider, id);
  const protocol = resolveProtocol(provider, o, fields.protocol);
  if (protocol === undefined) return undefined;
  return {
    modelId: id,
    providerId: provider.id,
    protocol,
    displayName: fields.displayName,
    maxContextTokens: o.max_context_tokens ?? fields.maxContextTokens,
    maxInputTokens: o.max_input_tokens ?? fields.maxInputTokens,
    maxOutputTokens: o.max_output_tokens ?? fields.maxOutputTokens,
    enforceContextLimit: o.enforce_context_limit ?? true,
    source: fields.source,
  };
}

/** The static models a provider declares in the config; always routable. */
export function staticEntries(
  config: ResolvedConfig,
  provider: ResolvedProviderConfig,
): ModelEntry[] {
  const out: ModelEntry[] = [];
  for (const m of provider.static_models) {
    const e = entry(config, provider, m.id, {
      protocol: m.protocol,
      displayName: m.display_name,
      maxContextTokens: m.max_context_tokens,
      maxInputTokens: m.max_input_tokens,
      maxOutputTokens: m.max_output_tokens,
      source: "static",
    });
    if (e) out.push(e);
  }
  return out;
}

/** Entries for a fetched list, merged with the static rows (static rows win on conflicts). */
export function discoveredEntries(
  config: ResolvedConfig,
  provider: ResolvedProviderConfig,
  listed: readonly ListedModel[],
): ModelEntry[] {
  const out = staticEntries(config, provider);
  const known = new Set(out.map((e) => e.modelId));
  for (const m of listed) {
    if (known.has(m.id)) continue;
    known.add(m.id);
    const e = entry(config, provider, m.id, {
      protocol: m.shape,
      displayName: m.displayName,
      maxContextTokens: m.maxContextTokens,
      maxOutputTokens: m.maxOutputTokens,
      source: "discovered",
    });
    if (e) out.push(e);
  }
  return out;
}

/** Parses a models endpoint body (OpenAI `{data:[{id}]}` or Anthropic `{data:[{type:"model"}]}`). */
export function parseModelList(body: unknown): ListedModel[] | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const data = (body as { data?: unknown }).data ?? (body as { models?: unknown }).models;
  if (!Array.isArray(data)) return undefined;
  const anthropicShaped = "has_more" in body || data.some((m) => m?.type === "model");
  const out: ListedModel[] = [];
  for (const m of data) {
    if (typeof m !== "object" || m === null || typeof m.id !== "string" || m.id === "") continue;
    const ctx = m.context_length ?? m.context_window ?? m.max_context_tokens;
    const outMax = m.max_output_tokens ?? m.max_completion_tokens;
    const name = anthropicShaped ? m.display_name : (m.name ?? m.title);
    out.push({
      id: m.id,
      shape: anthropicShaped ? "anthropic" : "openai",
      displayName: typeof name === "string" && name !== "" ? name : undefined,
      maxContextTokens: Number.isInteger(ctx) && ctx > 0 ? ctx : undefined,
      maxOutputTokens: Number.isInteger(outMax) && outMax > 0 ? outMax : undefined,
    });
  }
  return out;
}
