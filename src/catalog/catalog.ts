import type { Protocol } from "../core/protocol.ts";

/**
 * The model catalog: which provider serves which model over which protocol.
 * Pure data; discovery (which needs the network) fills it from outside.
 */

/** One model as one provider serves it. */
export interface ModelEntry {
  modelId: string;
  providerId: string;
  protocol: Protocol;
  maxContextTokens?: number;
  maxInputTokens?: number;
  maxOutputTokens?: number;
  /** Where the entry came from: `static` config rows or a live `discovered` list. */
  source: "static" | "discovered";
}

/** A requested model id after splitting an optional `/provider` suffix (spec 01 §3.1 step 6). */
export interface ModelRef {
  modelId: string;
  providerId?: string;
}

/** The catalog with fast lookups by model id. */
export class ModelCatalog {
  #byModel = new Map<string, ModelEntry[]>();
  #byProvider = new Map<string, ModelEntry[]>();
  readonly #providerIds: ReadonlySet<string>;

  constructor(providerIds: Iterable<string>) {
    this.#providerIds = new Set(providerIds);
  }

  /** Replaces everything known about one provider's models. */
  setProviderModels(providerId: string, entries: readonly ModelEntry[]): void {
    this.#byProvider.set(providerId, [...entries]);
    this.#rebuild();
  }

  #rebuild(): void {
    const byModel = new Map<string, ModelEntry[]>();
    for (const entries of this.#byProvider.values()) {
      for (const e of entries) {
        const list = byModel.get(e.modelId);
        if (list) list.push(e);
        else byModel.set(e.modelId, [e]);
      }
    }
    this.#byModel = byModel;
  }

  /**
   * Splits `model/provider` on the last slash only when the suffix is a
   * configured provider, so ids such as `org/model` stay whole.
   */
  parseRef(requested: string): ModelRef {
    const cut = requested.lastIndexOf("/");
    if (cut > 0 && cut < requested.length - 1) {
      const suffix = requested.slice(cut + 1);
      if (this.#providerIds.has(suffix)) {
        return { modelId: requested.slice(0, cut), providerId: suffix };
      }
    }
    return { modelId: requested };
  }

  /** Every provider entry for a model, optionally narrowed to one provider. */
  entries(ref: ModelRef): readonly ModelEntry[] {
    const all = this.#byModel.get(ref.modelId) ?? [];
    return ref.providerId ? all.filter((e) => e.providerId === ref.providerId) : all;
  }

  /** Every entry, grouped by nothing: for `/v1/models`. */
  all(): ModelEntry[] {
    return [...this.#byProvider.values()].flat();
  }

  /** Number of distinct models known. */
  get size(): number {
    return this.#byModel.size;
  }
}
