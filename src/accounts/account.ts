/**
 * The runtime shape of providers and accounts: what the data plane and the
 * router need about each, with env references already resolved.
 */
import type { Protocol } from "../core/protocol.ts";
import type { UpstreamAuth } from "../proxy/upstream.ts";
import type { UpstreamSlots } from "../proxy/slots.ts";
import type { StreamCompletionPolicy } from "../proxy/usage.ts";

/** A provider as the data plane needs it, with env references resolved. */
export interface ProviderRuntime {
  id: string;
  baseUrl: string;
  protocols: readonly Protocol[];
  /** Endpoint path per protocol, relative to `baseUrl`. */
  paths: Readonly<Record<Protocol, string>>;
  /** `responses_path`: the provider serves `/v1/responses` natively there (pass-through). */
  responsesPath?: string;
  /** Per-model path overrides: model id → protocol → path. */
  modelPaths: ReadonlyMap<string, Partial<Record<Protocol, string>>>;
  auth: UpstreamAuth;
  headers: ReadonlyArray<readonly [string, string]>;
  /** `routing_priority`: higher tiers are tried first. */
  priority: number;
  /** Deadline for the response head, in ms. */
  headersTimeoutMs: number;
  /** Longest silence allowed inside a streamed body, in ms. */
  idleTimeoutMs: number;
  /** `stream_completion_policy`: whether a stream with full usage but no end marker succeeds. */
  completionPolicy?: StreamCompletionPolicy;
  /** `max_connections` / `pool_timeout_s`: the provider's cap on open upstream calls. */
  slots?: UpstreamSlots;
}

/** One upstream account. */
export interface AccountRuntime {
  name: string;
  provider: ProviderRuntime;
  enabled: boolean;
  weight: number;
  /** The resolved key; never logged or stored. */
  key: string | undefined;
  /** HTTP client: the account's outbound proxy, or its provider's keep-alive pool settings. */
  client?: Deno.HttpClient;
  /** True when `client` is the account's own, through its outbound proxy. */
  viaProxy?: boolean;
}

/** True when the account can authenticate: it has a key, or its provider needs none. */
export function hasCredentials(account: AccountRuntime): boolean {
  return account.key !== undefined || account.provider.auth.mode === "none";
}
