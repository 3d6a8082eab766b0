/**
 * Keeps the catalog current (spec 03 §1): seeds static models, restores the
 * persisted lists, refreshes every enabled account's model list at startup
 * and every `refresh_interval_s`, keeps the last good list when a refresh
 * fails, and reports providers whose list has gone stale. The network call
 * is a port (`fetchList`), so this module does no I/O itself.
 */
import type { ResolvedConfig, ResolvedProviderConfig } from "../config/schema.ts";
import type { AccountRuntime } from "../accounts/account.ts";
import { hasCredentials } from "../accounts/account.ts";
import type { ListedModel } from "./build.ts";
import { discoveredEntries, staticEntries } from "./build.ts";
import type { ModelCatalog } from "./catalog.ts";
import type {
  AccountRefreshRecord,
  CatalogStore,
  FetchListPort,
  FetchListResult,
  PersistedCatalog,
  PingRecord,
  RefreshOutcome,
} from "./store.ts";

// The network port's types, re-exported next to the class that uses them.
export type { FetchListOptions, FetchListPort, FetchListResult } from "./store.ts";
import { mergeListing } from "./_merge.ts";

/** Accounts fetched at once during a refresh (a Pi should not open 100 sockets at once). */
const MAX_CONCURRENT_FETCHES = 8;
/** Steady successful pings are written at most this often per account (spec 03 §1.2). */
const PING_COARSEN_MS = 30 * 60_000;
/** Time allowed for one models call: it doubles as a ping, so a slow answer is a failed one. */
const FETCH_TIMEOUT_MS = 15_000;

/** Options for {@linkcode CatalogRefresher}. */
export interface CatalogRefresherOptions {
  config: ResolvedConfig;
  catalog: ModelCatalog;
  accounts: readonly AccountRuntime[];
  fetchList: FetchListPort;
  store?: CatalogStore;
  clock: () => number;
  log?: (message: string) => void;
  /** Overrides `refresh_interval_s` (tests). */
  intervalMs?: number;
  /** Called with each timer id so it does not keep the process alive (`Deno.unrefTimer`). */
  unrefTimer?: (id: ReturnType<typeof setTimeout>) => void;
}

/** One provider's result in a {@linkcode RefreshSummary}. */
export interface ProviderSummary {
  providerId: string;
  /** Routable models after the refresh (static + discovered). */
  models: number;
  /** `ok`: every fetched account answered; `partial`: some failed; `failed`: all failed. */
  outcome: "ok" | "partial" | "failed" | "skipped";
  errors: string[];
}

/** What one full refresh did. */
export interface RefreshSummary {
  providers: ProviderSummary[];
  /** Distinct model ids in the catalog afterwards. */
  totalModels: number;
}

/** Per-account memory between refreshes. */
interface AccountState {
  providerId: string;
  /** Last good list, merged per the withdrawal policy. */
  listed?: ListedModel[];
  missed: Map<string, number>;
  lastSuccessAt?: number;
  lastAttemptAt?: number;
  lastError?: string;
  consecutiveFailures: number;
  lastPing?: { ok: boolean; at: number };
}

/** Periodic, serialized catalog refreshes. */
export class CatalogRefresher {
  readonly #o: CatalogRefresherOptions;
  readonly #log: (message: string) => void;
  readonly #state = new Map<string, AccountState>();
  #running?: Promise<RefreshSummary>;
  #timer?: ReturnType<typeof setTimeout>;
  #stopped = false;

  constructor(options: CatalogRefresherOptions) {
    this.#o = options;
    this.#log = options.log ?? (() => {});
    for (const a of options.accounts) {
      this.#state.set(a.name, {
        providerId: a.provider.id,
        missed: new Map(),
        consecutiveFailures: 0,
      });
    }
  }

  #providers(): ResolvedProviderConfig[] {
    return Object.values(this.#o.config.providers);
  }

  /** Puts every provider's static models in the catalog. */
  seedStatic(): void {
    for (const p of this.#providers()) {
      this.#o.catalog.setProviderModels(p.id, staticEntries(this.#o.config, p));
    }
  }

  /** Loads the persisted lists (re-resolved against the current config's overrides). */
  restore(persisted: PersistedCatalog): void {
    for (const [name, saved] of persisted.accounts) {
      const st = this.#state.get(name);
      if (st === undefined || st.providerId !== saved.providerId) continue;
      const listedById = new Map(
        (persisted.providers.get(saved.providerId) ?? []).map((m) => [m.id, m]),
      );
      st.listed = saved.models.flatMap((id) => listedById.get(id) ?? []);
      st.lastSuccessAt = saved.lastSuccessAt;
      st.lastAttemptAt = saved.lastAttemptAt;
      st.lastError = saved.lastError;
      st.consecutiveFailures = saved.consecutiveFailures;
    }
    for (const p of this.#providers()) {
      const listed = persisted.providers.get(p.id);
      if (listed !== undefined && listed.length > 0) this.#publish(p, listed);
    }
  }

  /** Seeds static models, restores persisted lists, refreshes when `startup_refresh`; returns stale providers. */
  async startup(): Promise<{ stale: string[]; summary?: RefreshSummary }> {
    this.seedStatic();
    if (this.#o.store !== undefined) {
      try {
        this.restore(this.#o.store.load());
      } catch (error) {
        this.#log(`Cannot load the saved model catalog: ${message(error)}`);
      }
    }
    const summary = this.#o.config.models.startup_refresh ? await this.refreshAll() : undefined;
    return { stale: this.staleProviders(this.#o.clock()), summary };
  }

  /** Providers with a models endpoint whose last success is older than `stale_after_s` (or absent). */
  staleProviders(now: number): string[] {
    const staleMs = this.#o.config.models.stale_after_s * 1000;
    const out: string[] = [];
    for (const p of this.#providers()) {
      if (p.models_endpoint.method === "DISABLED") continue;
      const accounts = this.#o.accounts.filter((a) => a.provider.id === p.id && this.#usable(a));
      if (accounts.length === 0) continue;
      const last = Math.max(
        ...accounts.map((a) => this.#state.get(a.name)?.lastSuccessAt ?? -Infinity),
      );
      if (!(now - last <= staleMs)) out.push(p.id);
    }
    return out;
  }

  /** Whether any account of the provider ever fetched a list (now or in a saved run). */
  hasSavedList(providerId: string): boolean {
    for (const st of this.#state.values()) {
      if (st.providerId === providerId && st.lastSuccessAt !== undefined) return true;
    }
    return false;
  }

  #usable(a: AccountRuntime): boolean {
    return a.enabled && hasCredentials(a);
  }

  /** Runs one full refresh; concurrent calls share the refresh already running. */
  refreshAll(): Promise<RefreshSummary> {
    this.#running ??= this.#refresh().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #refresh(): Promise<RefreshSummary> {
    const providers = this.#providers();
    const targets = this.#o.accounts.filter((a) => {
      const p = this.#o.config.providers[a.provider.id];
      return p !== undefined && p.models_endpoint.method !== "DISABLED" && this.#usable(a);
    });
    const results = new Map<string, { result: FetchListResult; at: number }>();
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const a = targets[next++];
        const at = this.#o.clock();
        results.set(a.name, { result: await this.#fetch(a), at });
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(MAX_CONCURRENT_FETCHES, targets.length) }, worker),
    );
    const summaries = providers.map((p) =>
      this.#applyProvider(p, targets.filter((a) => a.provider.id === p.id), results)
    );
    return { providers: summaries, totalModels: this.#o.catalog.size };
  }

  async #fetch(a: AccountRuntime): Promise<FetchListResult> {
    const p = this.#o.config.providers[a.provider.id];
    const e = p.models_endpoint;
    try {
      return await this.#o.fetchList(a, {
        method: e.method === "POST" ? "POST" : "GET",
        path: e.path,
        query: e.query,
        body: e.body,
        timeoutMs: FETCH_TIMEOUT_MS,
        clock: this.#o.clock,
      });
    } catch (error) {
      return { ok: false, latencyMs: 0, error: message(error) };
    }
  }

  #applyProvider(
    p: ResolvedProviderConfig,
    fetched: readonly AccountRuntime[],
    results: ReadonlyMap<string, { result: FetchListResult; at: number }>,
  ): ProviderSummary {
    if (fetched.length === 0) {
      return {
        providerId: p.id,
        models: this.#o.catalog.providerEntries(p.id).length,
        outcome: "skipped",
        errors: [],
      };
    }
    const records: AccountRefreshRecord[] = [];
    const pings: PingRecord[] = [];
    const errors: string[] = [];
    let failures = 0;
    for (const a of fetched) {
      const r = results.get(a.name);
      if (r === undefined) continue;
      const st = this.#state.get(a.name)!;
      const outcome = this.#applyAccount(st, r.result, r.at);
      if (outcome === "failed") {
        failures++;
        errors.push(`${a.name}: ${r.result.error ?? "failed"}`);
      }
      const ping = this.#ping(a, st, r.result, r.at);
      if (ping) pings.push(ping);
      records.push({
        accountName: a.name,
        providerId: p.id,
        outcome,
        attemptedAt: r.at,
        lastSuccessAt: st.lastSuccessAt,
        error: outcome === "failed" ? st.lastError : undefined,
        modelCount: r.result.models?.length ?? 0,
        consecutiveFailures: st.consecutiveFailures,
        models: (st.listed ?? []).map((m) => m.id),
      });
    }
    const listed = this.#providerListing(p.id);
    const entries = this.#publish(p, listed);
    this.#save({
      providerId: p.id,
      at: this.#o.clock(),
      listed,
      entries,
      accounts: records,
      pings,
    });
    const outcome = failures === 0 ? "ok" : failures === fetched.length ? "failed" : "partial";
    // Only a provider none of whose accounts answered is down; one good account serves the list.
    this.#o.catalog.setProviderProblem(
      p.id,
      outcome === "failed" ? errors.join("; ") : undefined,
      [...Object.keys(this.#o.config.model_overrides), ...Object.keys(p.model_overrides)],
    );
    return { providerId: p.id, models: entries.length, outcome, errors };
  }

  #applyAccount(st: AccountState, result: FetchListResult, at: number): RefreshOutcome {
    st.lastAttemptAt = at;
    if (!result.ok || result.models === undefined) {
      st.consecutiveFailures++;
      st.lastError = result.error ?? (result.statusCode ? `HTTP ${result.statusCode}` : "failed");
      return "failed";
    }
    st.consecutiveFailures = 0;
    st.lastError = undefined;
    st.lastSuccessAt = at;
    // An empty list never withdraws anything (spec 03 §1.2).
    if (result.models.length === 0) return "success_empty";
    st.listed = mergeListing(st.listed, result.models, {
      missed: st.missed,
      policy: this.#o.config.models.catalog_withdrawal_policy,
    });
    return "success_authoritative";
  }

  #ping(
    a: AccountRuntime,
    st: AccountState,
    r: FetchListResult,
    at: number,
  ): PingRecord | undefined {
    const prior = st.lastPing;
    st.lastPing = {
      ok: r.ok,
      at: r.ok && prior?.ok && at - prior.at < PING_COARSEN_MS ? prior.at : at,
    };
    // Failures and transitions are always written; steady successes once per 30 minutes.
    if (r.ok && prior?.ok && at - prior.at < PING_COARSEN_MS) return undefined;
    return {
      providerId: a.provider.id,
      accountName: a.name,
      probedAt: at,
      latencyMs: Math.round(r.latencyMs),
      statusCode: r.statusCode,
      error: r.ok ? undefined : r.error,
      modelCount: r.models?.length,
    };
  }

  /** Union of the provider's accounts' last good lists (first account's metadata wins). */
  #providerListing(providerId: string): ListedModel[] {
    const byId = new Map<string, ListedModel>();
    for (const st of this.#state.values()) {
      if (st.providerId !== providerId || st.listed === undefined) continue;
      for (const m of st.listed) if (!byId.has(m.id)) byId.set(m.id, m);
    }
    return [...byId.values()];
  }

  #publish(p: ResolvedProviderConfig, listed: readonly ListedModel[]) {
    const entries = discoveredEntries(this.#o.config, p, listed);
    this.#o.catalog.setProviderModels(p.id, entries);
    for (const [name, st] of this.#state) {
      if (st.providerId !== p.id || st.listed === undefined) continue;
      this.#o.catalog.setAccountSupport(name, p.id, st.listed.map((m) => m.id), st.lastSuccessAt);
    }
    return entries;
  }

  #save(record: Parameters<CatalogStore["save"]>[0]): void {
    if (this.#o.store === undefined) return;
    try {
      this.#o.store.save(record);
    } catch (error) {
      this.#log(
        `Cannot save the model catalog of provider '${record.providerId}': ${message(error)}`,
      );
    }
  }

  /** Schedules a refresh every `refresh_interval_s` (0 = never). Idempotent. */
  start(): void {
    const intervalMs = this.#o.intervalMs ?? this.#o.config.models.refresh_interval_s * 1000;
    if (intervalMs <= 0 || this.#timer !== undefined || this.#stopped) return;
    const tick = () => {
      this.#timer = undefined;
      this.refreshAll()
        .catch((error) => this.#log(`Catalog refresh failed: ${message(error)}`))
        .finally(() => {
          if (!this.#stopped) this.#schedule(tick, intervalMs);
        });
    };
    this.#schedule(tick, intervalMs);
  }

  #schedule(fn: () => void, ms: number): void {
    const id = setTimeout(fn, ms);
    this.#timer = id;
    this.#o.unrefTimer?.(id);
  }

  /** Stops the schedule and waits for a refresh in progress to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }

  /** Per-account refresh state, for status pages. */
  accountState(name: string): Readonly<Omit<AccountState, "missed" | "lastPing">> | undefined {
    return this.#state.get(name);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
