/**
 * Fetching a provider's model list (the catalog's only network call; doubles
 * as a ping). Implements the catalog's `FetchListPort`.
 */
import type { AccountRuntime } from "../accounts/pool.ts";
import { parseModelList } from "../catalog/build.ts";
import { joinUrl, upstreamHeaders } from "./upstream.ts";
import type { FetchListOptions, FetchListResult } from "../catalog/store.ts";

/** Calls the provider's models endpoint with `account`'s credentials. */
export async function fetchModelList(
  account: AccountRuntime,
  options: FetchListOptions,
): Promise<FetchListResult> {
  const p = account.provider;
  const url = new URL(joinUrl(p.baseUrl, options.path));
  for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
  const started = options.clock();
  const protocol = p.protocols.includes("openai") ? "openai" : "anthropic";
  const headers = upstreamHeaders(new Headers({ accept: "application/json" }), {
    url: url.href,
    protocol,
    auth: p.auth,
    key: account.key,
    headers: p.headers,
    client: account.client,
  });
  try {
    const res = await fetch(url, {
      method: options.method,
      headers,
      body: options.method === "POST" ? JSON.stringify(options.body ?? {}) : undefined,
      signal: AbortSignal.timeout(options.timeoutMs),
      client: account.client,
    });
    const text = await res.text();
    const latencyMs = options.clock() - started;
    if (!res.ok) {
      return { ok: false, statusCode: res.status, latencyMs, error: describeStatus(res.status) };
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { ok: false, statusCode: res.status, latencyMs, error: "the models list is not JSON" };
    }
    const models = parseModelList(body);
    if (models === undefined) {
      return { ok: false, statusCode: res.status, latencyMs, error: "unrecognised models list" };
    }
    return { ok: true, models, statusCode: res.status, latencyMs };
  } catch (error) {
    return {
      ok: false,
      latencyMs: options.clock() - started,
      error: describeNetworkError(error, options.timeoutMs),
    };
  }
}

/**
 * A models-endpoint status in words an operator can act on: these strings
 * reach the startup log, readiness and `accounts status`, where a bare
 * "HTTP 401" leaves the reader to guess that the key is the problem.
 */
export function describeStatus(status: number): string {
  if (status === 401 || status === 403) return `HTTP ${status}, the provider rejected the key`;
  if (status === 404) return `HTTP ${status}, the provider has no models endpoint at this path`;
  if (status === 429) return `HTTP ${status}, the provider is rate limiting this key`;
  if (status >= 500) return `HTTP ${status}, the provider is failing`;
  return `HTTP ${status}`;
}

/**
 * A failed fetch in a few words. Deno's message embeds the whole URL and a
 * chain of layers ("client error (Connect): tcp connect error: ..."), so the
 * common causes are named and anything else keeps its first line.
 */
export function describeNetworkError(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  }
  // Deno's own fetch says only "fetch failed" and keeps the cause underneath.
  const chain: string[] = [];
  for (let e: unknown = error; e !== undefined && chain.length < 5;) {
    chain.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  const all = chain.join(": ");
  if (/connection refused/i.test(all)) return "connection refused";
  if (/dns error|failed to lookup|name or service not known/i.test(all)) {
    return "host name not found";
  }
  if (/connection reset/i.test(all)) return "connection reset by the provider";
  const text = (chain.at(-1) ?? "").split("\n")[0];
  if (/certificate|invalid peer|tls/i.test(all)) return `TLS failure: ${text}`;
  return text;
}
