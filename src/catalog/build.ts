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
  /** Protocol the item's own metadata names (`api_type` or `protocol`), if any. */
  declared?: Protocol;
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

/** Model ids whose protocol is known outright (spec 03 §1.3 rule 3). */
const KNOWN_IDS: Readonly<Record<string, Protocol>> = {
  "gpt-4": "openai",
  "gpt-4-turbo": "openai",
  "gpt-4o": "openai",
  "gpt-4o-mini": "openai",
  "gpt-3.5-turbo": "openai",
  "claude-3-opus-20240229": "anthropic",
  "claude-3-sonnet-20240229": "anthropic",
  "claude-3-haiku-20240307": "anthropic",
  "claude-3-5-sonnet-20241022": "anthropic",
  "claude-3-5-haiku-20241022": "anthropic",
};

/** Id prefixes, compared case-insensitively (rule 4). */
const PREFIXES: ReadonlyArray<readonly [string, Protocol]> = [
  ["gpt-", "openai"],
  ["o1-", "openai"],
  ["o3-", "openai"],
  ["glm-", "openai"],
  ["kimi-", "openai"],
  ["mimo-", "openai"],
  ["deepseek-", "openai"],
  ["claude-", "anthropic"],
  ["minimax-", "anthropic"],
  ["qwen3", "anthropic"],
];

/** The protocol a model's id alone suggests, by exact id then prefix. */
export function protocolByName(modelId: string): Protocol | undefined {
  const known = KNOWN_IDS[modelId];
  if (known !== undefined) return known;
  const lower = modelId.toLowerCase();
  return PREFIXES.find(([prefix]) => lower.startsWith(prefix))?.[1];
}

/** What the catalog knows of a model's protocol besides the overrides. */
export interface ProtocolHints {
  /** From the config's static row: as binding as an override. */
  configured?: Protocol;
  /** From the listed item's own metadata. */
  declared?: Protocol;
  /** From the shape of the list it came in. */
  shape?: Protocol;
}

/**
 * A model's protocol at one provider (spec 03 §1.3, 09-decisions): the
 * override or static row; else, among the protocols the provider declares,
 * the item's metadata, then the known ids and prefixes, then the list's
 * shape; else the provider's only protocol. A rule naming a protocol the
 * provider does not speak is skipped, so no model is hidden by a name alone.
 */
export function resolveProtocol(
  provider: ResolvedProviderConfig,
  override: Partial<Override>,
  modelId: string,
  hints: ProtocolHints = {},
): Protocol | undefined {
  if (override.protocol) return override.protocol;
  if (hints.configured) return hints.configured;
  const spoken = (p: Protocol | undefined) => p !== undefined && provider.protocols.includes(p);
  for (const p of [hints.declared, protocolByName(modelId), hints.shape]) {
    if (spoken(p)) return p;
  }
  if (provider.protocols.length === 1) return provider.protocols[0];
  return hints.shape;
}

function entry(
  config: ResolvedConfig,
  provider: ResolvedProviderConfig,
  id: string,
  fields: ProtocolHints & {
    displayName?: string;
    maxContextTokens?: number;
    maxInputTokens?: number;
    maxOutputTokens?: number;
    source: ModelEntry["source"];
  },
): ModelEntry | undefined {
  const o = overrideOf(config, provider, id);
  const protocol = resolveProtocol(provider, o, id, fields);
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
      configured: m.protocol,
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
      shape: m.shape,
      declared: m.declared,
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
    const declared = [m.api_type, m.protocol].find((p) => p === "openai" || p === "anthropic");
    out.push({
      id: m.id,
      shape: anthropicShaped ? "anthropic" : "openai",
      declared,
      displayName: typeof name === "string" && name !== "" ? name : undefined,
      maxContextTokens: Number.isInteger(ctx) && ctx > 0 ? ctx : undefined,
      maxOutputTokens: Number.isInteger(outMax) && outMax > 0 ? outMax : undefined,
    });
  }
  return out;
}
