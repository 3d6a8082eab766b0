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
  displayName?: string;
  maxContextTokens?: number;
  maxInputTokens?: number;
  maxOutputTokens?: number;
  /** `model_overrides.enforce_context_limit`; undefined counts as true. */
  enforceContextLimit?: boolean;
  /** Where the entry came from: `static` config rows or a live `discovered` list. */
  source: "static" | "discovered";
}

/** Options for {@linkcode ModelCatalog}. */
export interface ModelCatalogOptions {
  /**
   * Freshness gate (`allow_stale_catalog = false`, spec 03 §1.5): an account
   * whose last successful refresh is older than this serves only static models.
   */
  freshnessMs?: number;
}

/** The account fields {@linkcode ModelCatalog.supports} reads (an `AccountRuntime` fits). */
export interface SupportSubject {
  name: string;
  provider: { id: string };
}

/** What one account's models endpoint last said. */
interface AccountSupport {
  providerId: string;
  models: ReadonlySet<string>;
  lastSuccessAt?: number;
}

/** A requested model id after splitting an optional `/provider` suffix (spec 01 §3.1 step 6). */
export interface ModelRef {
  modelId: string;
  providerId?: string;
}

/** Why a provider's model list is missing, and the model ids it is expected to serve. */
interface ProviderProblem {
  reason: string;
  /** Ids the config names for this provider (overrides): a request for one is the provider's outage, not a typo. */
  expected: ReadonlySet<string>;
}

/** A provider that would serve a requested model were its list loaded. */
export interface UnavailableProvider {
  providerId: string;
  reason: string;
}

/** The catalog with fast lookups by model id. */
export class ModelCatalog {
  #byModel = new Map<string, ModelEntry[]>();
  #byProvider = new Map<string, ModelEntry[]>();
  /** Provider id → static model ids (always routable). */
  #static = new Map<string, Set<string>>();
  readonly #support = new Map<string, AccountSupport>();
  readonly #problems = new Map<string, ProviderProblem>();
  readonly #providerIds: ReadonlySet<string>;
  readonly #freshnessMs?: number;

  constructor(providerIds: Iterable<string>, options: ModelCatalogOptions = {}) {
    this.#providerIds = new Set(providerIds);
    this.#freshnessMs = options.freshnessMs;
  }

  /**
   * Records the models one account's endpoint lists (its support set).
   * Accounts without a record are assumed to serve what their provider serves.
   */
  setAccountSupport(
    accountName: string,
    providerId: string,
    models: Iterable<string>,
    lastSuccessAt?: number,
  ): void {
    this.#support.set(accountName, { providerId, models: new Set(models), lastSuccessAt });
  }

  /** The account's support set, when one was recorded. */
  accountModels(accountName: string): ReadonlySet<string> | undefined {
    return this.#support.get(accountName)?.models;
  }

  /**
   * Whether the account serves the model (eligibility gate 9): static models
   * always; otherwise its support set when it has one (and, under the
   * freshness gate, only when that set is fresh); otherwise its provider's list.
   */
  supports(account: SupportSubject, modelId: string, now: number): boolean {
    const providerId = account.provider.id;
    const s = this.#support.get(account.name);
    const own = s !== undefined && s.providerId === providerId ? s : undefined;
    const fresh = this.#freshnessMs === undefined ||
      (own?.lastSuccessAt !== undefined && now - own.lastSuccessAt <= this.#freshnessMs);
    // The common case first: a fresh list that names the model (two lookups).
    if (own !== undefined && fresh && own.models.has(modelId)) return true;
    if (this.#static.get(providerId)?.has(modelId)) return true;
    return fresh && own === undefined;
  }

  /** Replaces everything known about one provider's models. */
  setProviderModels(providerId: string, entries: readonly ModelEntry[]): void {
    this.#byProvider.set(providerId, [...entries]);
    this.#rebuild();
  }

  #rebuild(): void {
    const byModel = new Map<string, ModelEntry[]>();
    const statics = new Map<string, Set<string>>();
    for (const entries of this.#byProvider.values()) {
      for (const e of entries) {
        if (e.source === "static") {
          const set = statics.get(e.providerId) ?? new Set<string>();
          set.add(e.modelId);
          statics.set(e.providerId, set);
        }
        const list = byModel.get(e.modelId);
        if (list) list.push(e);
        else byModel.set(e.modelId, [e]);
      }
    }
    this.#byModel = byModel;
    this.#static = statics;
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

  /** One provider's entries. */
  providerEntries(providerId: string): readonly ModelEntry[] {
    return this.#byProvider.get(providerId) ?? [];
  }

  /** Every entry, grouped by nothing: for `/v1/models`. */
  all(): ModelEntry[] {
    return [...this.#byProvider.values()].flat();
  }

  /**
   * Records (or, with `undefined`, clears) why a provider's model list could
   * not be fetched. `expected` are the ids the config names for it, so a
   * request for one of them can be answered with the outage instead of a 404.
   */
  setProviderProblem(
    providerId: string,
    reason: string | undefined,
    expected: Iterable<string> = [],
  ): void {
    if (reason === undefined) this.#problems.delete(providerId);
    else this.#problems.set(providerId, { reason, expected: new Set(expected) });
  }

  /** Every provider whose list could not be fetched, with the reason. */
  providerProblems(): UnavailableProvider[] {
    return [...this.#problems].map(([providerId, p]) => ({ providerId, reason: p.reason }));
  }

  /** Providers with a failed list that the config says serve the requested model. */
  unavailable(ref: ModelRef): UnavailableProvider[] {
    const out: UnavailableProvider[] = [];
    for (const [providerId, p] of this.#problems) {
      if (ref.providerId !== undefined && ref.providerId !== providerId) continue;
      if (p.expected.has(ref.modelId)) out.push({ providerId, reason: p.reason });
    }
    return out;
  }

  /** Every provider whose model list could not be loaded, with why. */
  failing(): UnavailableProvider[] {
    return [...this.#problems].map(([providerId, p]) => ({ providerId, reason: p.reason }));
  }

  /** Number of distinct models known. */
  get size(): number {
    return this.#byModel.size;
  }
}
