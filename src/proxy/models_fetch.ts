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
      return { ok: false, statusCode: res.status, latencyMs, error: `HTTP ${res.status}` };
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
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return { ok: false, latencyMs: options.clock() - started, error: message };
  }
}
