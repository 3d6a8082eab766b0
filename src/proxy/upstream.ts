import type { Protocol } from "../core/protocol.ts";

/**
 * Building the upstream request: URL, headers, credentials. This module and
 * the dispatcher are the only places that talk to providers.
 */

/** How a provider wants its key presented (config `[providers.x.auth]`). */
export interface UpstreamAuth {
  mode: "bearer" | "api_key" | "raw_authorization" | "none";
  header: string;
  scheme: string;
}

/** Everything needed to send one attempt to one account. */
export interface UpstreamTarget {
  /** Absolute URL of the protocol endpoint at this provider. */
  url: string;
  protocol: Protocol;
  auth: UpstreamAuth;
  /** The account's key; never logged. */
  key: string | undefined;
  /** Provider static headers, already resolved from env. */
  headers: ReadonlyArray<readonly [string, string]>;
  /** Outbound proxy client for this account, when it has one. */
  client?: Deno.HttpClient;
}

/** Hop-by-hop and framing headers never copied between the two connections (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "trailers",
  "transfer-encoding",
  "upgrade",
]);

/** Client headers that carry the client's own credentials or describe the old body. */
const CLIENT_ONLY = new Set([
  "authorization",
  "x-api-key",
  "host",
  "content-length",
  "cookie",
  // Deno's fetch decompresses only when it chose the encoding itself; the usage tap needs plain bytes.
  "accept-encoding",
]);

/** Joins a base URL and a path with exactly one slash between them. */
export function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}

function connectionListed(headers: Headers): Set<string> {
  const listed = new Set<string>();
  const value = headers.get("connection");
  if (value) { for (const token of value.split(",")) listed.add(token.trim().toLowerCase()); }
  return listed;
}

/**
 * The headers sent upstream (spec 01 §3.5): the client's minus hop-by-hop,
 * credentials and our own `x-eggpool-*` headers, then provider static
 * headers, then `anthropic-version` when needed, then the account's auth.
 */
export function upstreamHeaders(client: Headers, target: UpstreamTarget): Headers {
  const listed = connectionListed(client);
  const out = new Headers();
  for (const [name, value] of client) {
    if (HOP_BY_HOP.has(name) || CLIENT_ONLY.has(name) || listed.has(name)) continue;
    if (name.startsWith("x-eggpool-")) continue;
    out.append(name, value);
  }
  for (const [name, value] of target.headers) out.set(name, value);
  if (target.protocol === "anthropic" && !out.has("anthropic-version")) {
    out.set("anthropic-version", "2023-06-01");
  }
  const { auth, key } = target;
  if (auth.mode !== "none" && key !== undefined) {
    out.set(auth.header, auth.mode === "bearer" ? `${auth.scheme} ${key}` : key);
  }
  out.set("content-type", "application/json");
  return out;
}

/** Response headers passed back to the client: hop-by-hop and framing removed. */
export function clientHeaders(upstream: Headers): Headers {
  const listed = connectionListed(upstream);
  const out = new Headers();
  for (const [name, value] of upstream) {
    if (HOP_BY_HOP.has(name) || listed.has(name)) continue;
    if (name === "content-length" || name === "content-encoding") continue;
    out.append(name, value);
  }
  return out;
}
