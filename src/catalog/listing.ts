import type { ModelCatalog, ModelEntry } from "./catalog.ts";
import type { Protocol } from "../core/protocol.ts";
import type { ModelCapability } from "../routing/capabilities.ts";
import { commonImages } from "../routing/capabilities.ts";

/** Token limits shown with a listed model; only known fields are present. */
export interface ListedLimits {
  context?: number;
  input?: number;
  output?: number;
}

/** EggPool's extension object of a `/v1/models` item (spec 01 §4). */
export interface ModelListExtras {
  /** Suffixed items: the bare model id and its provider. */
  base_model_id?: string;
  provider_id?: string;
  routing_priority?: number;
  /** Collapsed items: every contributing provider and the highest priority. */
  providers?: string[];
  routing_priority_max?: number;
  limits?: ListedLimits;
  /** The protocols the model's upstreams speak; either endpoint reaches it while the transcoder is on. */
  protocols?: Protocol[];
  /** What `[model_capabilities]` states, when it states anything. */
  capabilities?: ListedCapabilities;
}

/** A model's stated capabilities as `/v1/models` shows them. */
export interface ListedCapabilities {
  thinking?: { status: string; supported_efforts?: string[] };
  image_input?: { base64: boolean; url: boolean };
}

/** One `/v1/models` entry in the OpenAI list shape, plus EggPool's extras. */
export interface ModelListItem {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
  /** Display name, or the id. */
  name?: string;
  eggpool?: ModelListExtras;
}

/** Options for {@linkcode listModels}. */
export interface ListModelsOptions {
  /** `[models].collapse_models`: one bare id per model instead of one `model/provider` per pair. */
  collapse: boolean;
  /** Provider id → `routing_priority`. */
  priorities?: Readonly<Record<string, number>>;
  /**
   * Visibility (spec 03 §2 `expose_mode`): whether some eligible account of
   * the provider serves the model. Default: everything in the catalog is shown.
   */
  isVisible?: (providerId: string, modelId: string) => boolean;
  /** `[model_capabilities]` as stated for a provider's model. */
  capabilities?: (providerId: string, modelId: string) => ModelCapability | undefined;
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/** Field-wise minimum of the entries' limits; undefined when none is known. */
export function minimumLimits(entries: readonly ModelEntry[]): ListedLimits | undefined {
  let context: number | undefined;
  let input: number | undefined;
  let output: number | undefined;
  for (const e of entries) {
    context = minDefined(context, e.maxContextTokens);
    input = minDefined(input, e.maxInputTokens);
    output = minDefined(output, e.maxOutputTokens);
  }
  const out: ListedLimits = {};
  if (context !== undefined) out.context = context;
  if (input !== undefined) out.input = input;
  if (output !== undefined) out.output = output;
  return Object.keys(out).length === 0 ? undefined : out;
}

function withLimits(extras: ModelListExtras, entries: readonly ModelEntry[]): ModelListExtras {
  const limits = minimumLimits(entries);
  return limits === undefined ? extras : { ...extras, limits };
}

/**
 * The capabilities stated for a model on any of its providers: thinking as
 * the most able provider states it (supported before unknown before
 * unsupported), image input as every stating provider takes it.
 */
function listedCapabilities(
  entries: readonly ModelEntry[],
  of: ListModelsOptions["capabilities"],
): ListedCapabilities | undefined {
  if (of === undefined) return undefined;
  const rank = { supported: 0, unknown: 1, unsupported: 2 } as const;
  let thinking: ModelCapability["thinking"];
  let images: ModelCapability["images"];
  for (const e of entries) {
    const cap = of(e.providerId, e.modelId);
    if (
      cap?.thinking !== undefined &&
      (thinking === undefined || rank[cap.thinking.status] < rank[thinking.status])
    ) {
      thinking = cap.thinking;
    }
    images = commonImages(images, cap?.images);
  }
  const out: ListedCapabilities = {};
  if (thinking !== undefined) {
    out.thinking = { status: thinking.status };
    if (thinking.efforts !== undefined) out.thinking.supported_efforts = [...thinking.efforts];
  }
  if (images !== undefined) out.image_input = images;
  return out.thinking === undefined && out.image_input === undefined ? undefined : out;
}

function withCapabilities(
  extras: ModelListExtras,
  entries: readonly ModelEntry[],
  of: ListModelsOptions["capabilities"],
): ModelListExtras {
  const capabilities = listedCapabilities(entries, of);
  return capabilities === undefined ? extras : { ...extras, capabilities };
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The `/v1/models` body: one `model/provider` id per pair, or one id per
 * model when `collapse` is set (spec 03 §2), sorted by id, with context and
 * output limits (the minimum across providers for a collapsed id).
 */
export function listModels(
  catalog: ModelCatalog,
  options: ListModelsOptions,
): { object: "list"; data: ModelListItem[] } {
  const priorityOf = (p: string) => options.priorities?.[p] ?? 0;
  const visible = catalog.all().filter((e) =>
    e.modelId !== "__deprecated__" && (options.isVisible?.(e.providerId, e.modelId) ?? true)
  );
  const data: ModelListItem[] = [];
  if (options.collapse) {
    const groups = new Map<string, ModelEntry[]>();
    for (const e of visible) {
      const list = groups.get(e.modelId) ?? [];
      list.push(e);
      groups.set(e.modelId, list);
    }
    for (const [id, entries] of groups) {
      const providers = [...new Set(entries.map((e) => e.providerId))].sort();
      const first = [...entries].sort((a, b) => (a.providerId < b.providerId ? -1 : 1))[0];
      data.push({
        id,
        object: "model",
        created: 0,
        owned_by: providers.join(","),
        name: first.displayName ?? id,
        eggpool: withCapabilities(
          withLimits({
            providers,
            routing_priority_max: Math.max(...providers.map(priorityOf)),
            protocols: [...new Set(entries.map((e) => e.protocol))].sort(),
          }, entries),
          entries,
          options.capabilities,
        ),
      });
    }
  } else {
    const seen = new Set<string>();
    for (const e of visible) {
      const id = `${e.modelId}/${e.providerId}`;
      if (seen.has(id)) continue;
      seen.add(id);
      data.push({
        id,
        object: "model",
        created: 0,
        owned_by: e.providerId,
        name: e.displayName ?? e.modelId,
        eggpool: withCapabilities(
          withLimits({
            base_model_id: e.modelId,
            provider_id: e.providerId,
            routing_priority: priorityOf(e.providerId),
            protocols: [e.protocol],
          }, [e]),
          [e],
          options.capabilities,
        ),
      });
    }
  }
  data.sort(byId);
  return { object: "list", data };
}
