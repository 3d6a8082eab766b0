/**
 * The accounts as the data plane uses them, built from a loaded config: keys,
 * static headers and proxy URLs resolved from the environment, and one
 * outbound proxy client per account that has a proxy. Shared by the server
 * and `eggpool models refresh`, so both reach providers the same way.
 */
import type { LoadedConfig } from "../config/types.ts";
import type { ResolvedProviderConfig } from "../config/schema.ts";
import {
  resolveAccountKey,
  resolveAccountProxyUrl,
  resolveProviderHeaders,
} from "../config/credentials.ts";
import type { Protocol } from "../core/protocol.ts";
import type { AccountRuntime, ProviderRuntime } from "../accounts/account.ts";
import { credentialFingerprint } from "../accounts/fingerprint.ts";
import { UpstreamSlots } from "./slots.ts";
import type { AccountRow, ProviderRow } from "../storage/accounts_repo.ts";

function providerRuntime(loaded: LoadedConfig, p: ResolvedProviderConfig): ProviderRuntime {
  const idle = p.stream_timeouts.idle_timeout_s ?? loaded.config.upstream.stream_idle_timeout_s;
  return {
    id: p.id,
    baseUrl: p.base_url,
    protocols: p.protocols,
    paths: { openai: p.openai_path, anthropic: p.anthropic_path },
    responsesPath: p.responses_path,
    modelPaths: new Map<string, Partial<Record<Protocol, string>>>(),
    auth: p.auth,
    headers: resolveProviderHeaders(loaded, p.id).map((h) => [h.name, h.value] as const),
    priority: p.routing_priority,
    headersTimeoutMs: (p.stream_timeouts.first_byte_timeout_s ?? p.read_timeout_s) * 1000,
    idleTimeoutMs: idle * 1000,
    completionPolicy: p.stream_completion_policy,
    slots: new UpstreamSlots(p.max_connections, p.pool_timeout_s * 1000),
  };
}

/**
 * The keep-alive pool settings of a provider's HTTP clients: `max_keepalive`
 * idle connections per host, each closed after `keepalive_timeout_s` idle
 * (0 keeps none).
 */
function poolOptions(p: ResolvedProviderConfig): Deno.CreateHttpClientOptions {
  return p.keepalive_timeout_s > 0
    ? { poolMaxIdlePerHost: p.max_keepalive, poolIdleTimeout: p.keepalive_timeout_s * 1000 }
    : { poolMaxIdlePerHost: 0 };
}

/**
 * One client shared by a provider's accounts that have no outbound proxy.
 * Callers close every account's client, so closing it is made idempotent.
 */
function sharedClient(p: ResolvedProviderConfig): Deno.HttpClient {
  const client = Deno.createHttpClient(poolOptions(p));
  const close = client.close.bind(client);
  let closed = false;
  client.close = () => {
    if (closed) return;
    closed = true;
    close();
  };
  return client;
}

/** Every configured account, enabled or not, in config order. Close their `client`s when done. */
export function buildAccounts(loaded: LoadedConfig): AccountRuntime[] {
  const out: AccountRuntime[] = [];
  for (const p of Object.values(loaded.config.providers)) {
    const provider = providerRuntime(loaded, p);
    let shared: Deno.HttpClient | undefined;
    for (const a of p.accounts) {
      const proxyUrl = resolveAccountProxyUrl(loaded, p.id, a.name);
      out.push({
        name: a.name,
        provider,
        enabled: a.enabled,
        weight: a.weight,
        key: resolveAccountKey(loaded, p.id, a.name),
        client: proxyUrl
          ? Deno.createHttpClient({ ...poolOptions(p), proxy: { url: proxyUrl } })
          : (shared ??= sharedClient(p)),
        viaProxy: proxyUrl !== undefined && proxyUrl !== "",
      });
    }
  }
  return out;
}

/** The provider and account rows mirrored into SQLite (keys only as fingerprints). */
export function configRows(
  loaded: LoadedConfig,
  accounts: readonly AccountRuntime[],
): { providers: ProviderRow[]; accounts: AccountRow[] } {
  const c = loaded.config;
  return {
    providers: Object.values(c.providers).map((p) => ({
      id: p.id,
      baseUrl: p.base_url,
      protocols: p.protocols,
    })),
    accounts: accounts.map((a) => ({
      name: a.name,
      providerId: a.provider.id,
      apiKeyEnv: c.providers[a.provider.id].accounts.find((x) => x.name === a.name)!.api_key_env,
      enabled: a.enabled,
      weight: a.weight,
      credentialFingerprint: credentialFingerprint(a.key),
    })),
  };
}
