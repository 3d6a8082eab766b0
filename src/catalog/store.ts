/**
 * The catalog's ports (spec 03 §1.2–§1.4): the models-endpoint call
 * (`proxy/models_fetch.ts` implements it) and persistence: what a refresh
 * writes and what startup reads back, so a restart with the network down
 * still serves the last good lists (`storage/catalog_repo.ts` implements it).
 */
import type { AccountRuntime } from "../accounts/account.ts";
import type { ListedModel } from "./build.ts";
import type { ModelEntry } from "./catalog.ts";

/** Options of one models-endpoint call (the shape of `proxy/models_fetch.ts`). */
export interface FetchListOptions {
  method: "GET" | "POST";
  path: string;
  query?: Readonly<Record<string, string>>;
  body?: unknown;
  timeoutMs: number;
  clock: () => number;
}

/** Result of one models-endpoint call. */
export interface FetchListResult {
  ok: boolean;
  models?: ListedModel[];
  statusCode?: number;
  latencyMs: number;
  error?: string;
}

/** The network port: `fetchModelList` from `proxy/models_fetch.ts` fits it. */
export type FetchListPort = (
  account: AccountRuntime,
  options: FetchListOptions,
) => Promise<FetchListResult>;

/** How one account's models-endpoint call went (spec 03 §1.2). */
export type RefreshOutcome = "success_authoritative" | "success_empty" | "failed" | "skipped";

/** One account's refresh state after a refresh. */
export interface AccountRefreshRecord {
  accountName: string;
  providerId: string;
  outcome: RefreshOutcome;
  attemptedAt: number;
  lastSuccessAt?: number;
  error?: string;
  /** Models the endpoint listed this time. */
  modelCount: number;
  consecutiveFailures: number;
  /** The account's support set after this refresh (withdrawal policy applied). */
  models: readonly string[];
}

/** One models-endpoint call, as a provider ping (`provider_pings`). */
export interface PingRecord {
  providerId: string;
  accountName: string;
  probedAt: number;
  latencyMs?: number;
  /** Undefined when no HTTP response arrived. */
  statusCode?: number;
  error?: string;
  modelCount?: number;
}

/** Everything one provider's refresh wants written, in one transaction. */
export interface ProviderRefreshRecord {
  providerId: string;
  at: number;
  /** The provider's discovered models (union over its accounts). */
  listed: readonly ListedModel[];
  /** Resolved entries of those models (protocol, limits). */
  entries: readonly ModelEntry[];
  accounts: readonly AccountRefreshRecord[];
  pings: readonly PingRecord[];
}

/** What startup reads back. */
export interface PersistedCatalog {
  /** Provider id → its last good discovered models. */
  providers: ReadonlyMap<string, readonly ListedModel[]>;
  /** Account name → its last refresh state. */
  accounts: ReadonlyMap<string, PersistedAccount>;
}

/** One account's persisted refresh state. */
export interface PersistedAccount {
  providerId: string;
  models: readonly string[];
  lastSuccessAt?: number;
  lastAttemptAt?: number;
  lastError?: string;
  consecutiveFailures: number;
}

/** The port the refresher writes through. */
export interface CatalogStore {
  load(): PersistedCatalog;
  save(record: ProviderRefreshRecord): void;
}
