/**
 * The `[security]` checks that run before routing (spec 01 §1, issue #12).
 *
 * Without a local key the API is protected only by the loopback bind, and a
 * web page the user visits can still reach loopback: a `text/plain` form post
 * needs no CORS preflight, and DNS rebinding makes a foreign name resolve to
 * 127.0.0.1. So in keyless mode the guard demands a JSON content type on
 * API posts, refuses browser requests from other origins, and checks `Host`
 * against `allowed_hosts` (default: loopback names and the bind address).
 * With a key, the key is the protection; `allowed_hosts` is checked only when
 * the operator lists names, and `cors_origins` only decides which browser
 * origins may read answers.
 */
import type { HeaderReader } from "../core/headers.ts";
import type { Protocol } from "../core/protocol.ts";
import { ProxyError } from "../core/errors.ts";
import { errorBody } from "../proxy/envelope.ts";

/** The `[security]` keys the guard reads. */
export interface SecuritySettings {
  readonly allowed_hosts: readonly string[];
  readonly cors_origins: readonly string[];
}

/** Options for {@linkcode createGuard}. */
export interface GuardOptions {
  security: SecuritySettings;
  /** `[server].host`, served by default in keyless mode. */
  bindHost: string;
  /** True when a local key is configured. */
  keyed: boolean;
}

/** Names a keyless server answers to when `allowed_hosts` is empty. */
const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "::1"];
/** How long a browser may cache a preflight answer. */
const PREFLIGHT_MAX_AGE_S = 600;

/** Checks applied to every request before routing; see the module comment. */
export interface Guard {
  /**
   * A refusal for this request, or undefined when it may proceed. `protocol`
   * is the envelope of the path (undefined outside `/v1/`); `api` is true on
   * paths that take a JSON body.
   */
  refuse(
    method: string,
    headers: HeaderReader,
    protocol: Protocol | undefined,
    api: boolean,
  ): Response | undefined;
  /** The answer to a CORS preflight (`OPTIONS` with `Origin`), or undefined if it is not one. */
  preflight(method: string, headers: HeaderReader): Response | undefined;
  /** CORS response headers for an allowed origin, or undefined (nothing to add). */
  corsHeaders(headers: HeaderReader): Record<string, string> | undefined;
}

/**
 * Builds the guard, or undefined when nothing would ever be checked (a key is
 * configured and both lists are empty), so the hot path pays nothing then.
 */
export function createGuard(options: GuardOptions): Guard | undefined {
  const { security, keyed } = options;
  if (keyed && security.allowed_hosts.length === 0 && security.cors_origins.length === 0) {
    return undefined;
  }
  const hosts = hostMatcher(
    security.allowed_hosts.length > 0
      ? security.allowed_hosts
      : keyed
      ? undefined
      : [...LOOPBACK_NAMES, options.bindHost],
  );
  const origins = new Set(security.cors_origins.map(normalizeOrigin));
  const anyOrigin = origins.has("*");
  const corsAllowed = (origin: string) => anyOrigin || origins.has(normalizeOrigin(origin));

  return {
    refuse(method, headers, protocol, api) {
      const host = headers.get("host");
      if (hosts !== undefined && !hosts(host)) {
        return refusal(
          protocol,
          421,
          `Invalid host header: "${host ?? ""}" is not a name this server answers to. ` +
            `Add it to [security].allowed_hosts in config.toml to serve it.`,
          "invalid_host",
        );
      }
      if (keyed) return undefined;
      const origin = headers.get("origin");
      const crossSite = origin !== null
        ? !isSameOrigin(origin, host) && !corsAllowed(origin)
        : headers.get("sec-fetch-site") === "cross-site";
      // A top-level GET navigation (a link) cannot read the answer nor change anything.
      const navigation = (method === "GET" || method === "HEAD") &&
        headers.get("sec-fetch-mode") === "navigate";
      if (crossSite && !navigation) {
        return refusal(
          protocol,
          403,
          `Cross-origin browser request refused${origin === null ? "" : ` from ${origin}`}: ` +
            `this server has no API key, so only pages of origins listed in ` +
            `[security].cors_origins may call it. Add the origin there or configure [server].api_key.`,
          "cross_origin_refused",
        );
      }
      if (api && method === "POST" && !isJson(headers.get("content-type"))) {
        return refusal(
          protocol,
          415,
          `Unsupported content type "${headers.get("content-type") ?? "(none)"}": ` +
            `send the header "Content-Type: application/json" with a JSON body.`,
          "unsupported_media_type",
        );
      }
      return undefined;
    },
    preflight(method, headers) {
      if (method !== "OPTIONS") return undefined;
      const origin = headers.get("origin");
      const asked = headers.get("access-control-request-method");
      if (origin === null || asked === null) return undefined;
      if (!corsAllowed(origin)) {
        return new Response(null, { status: 403, headers: { vary: "origin" } });
      }
      const out: Record<string, string> = {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
        "access-control-max-age": String(PREFLIGHT_MAX_AGE_S),
        vary: "origin",
      };
      const wanted = headers.get("access-control-request-headers");
      if (wanted !== null) out["access-control-allow-headers"] = wanted;
      return new Response(null, { status: 204, headers: out });
    },
    corsHeaders(headers) {
      const origin = headers.get("origin");
      if (origin === null || !corsAllowed(origin)) return undefined;
      return { "access-control-allow-origin": origin, vary: "origin" };
    },
  };
}

function refusal(
  protocol: Protocol | undefined,
  status: number,
  message: string,
  code: string,
): Response {
  const body = protocol === undefined
    ? { error: message }
    : errorBody(protocol, new ProxyError("invalid_request", message, { status, code }));
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

/** `application/json`, with or without parameters, in any letter case. */
export function isJson(contentType: string | null): boolean {
  if (contentType === null) return false;
  const semi = contentType.indexOf(";");
  const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return type === "application/json";
}

/**
 * The host name of a `Host` header or an `allowed_hosts` entry: lower case,
 * no port, no IPv6 brackets, no trailing dot.
 */
export function hostName(value: string): string {
  let v = value.trim().toLowerCase();
  if (v.startsWith("[")) {
    const end = v.indexOf("]");
    v = end < 0 ? v.slice(1) : v.slice(1, end);
  } else {
    const colon = v.indexOf(":");
    // One colon is a port; more is a bare IPv6 address (only in config entries).
    if (colon >= 0 && v.indexOf(":", colon + 1) < 0) v = v.slice(0, colon);
  }
  return v.endsWith(".") ? v.slice(0, -1) : v;
}

/** A predicate over `Host` values; `*` allows any, `*.example.com` any subdomain. */
function hostMatcher(
  entries: readonly string[] | undefined,
): ((host: string | null) => boolean) | undefined {
  if (entries === undefined) return undefined;
  if (entries.some((e) => e.trim() === "*")) return undefined;
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const e of entries) {
    const t = e.trim().toLowerCase();
    if (t.startsWith("*.")) suffixes.push(hostName(t.slice(1)));
    else exact.add(hostName(t));
  }
  // A wildcard bind serves every local name; the loopback names above still apply.
  exact.delete("0.0.0.0");
  exact.delete("::");
  return (host) => {
    if (host === null) return false;
    const name = hostName(host);
    return exact.has(name) || suffixes.some((s) => name.endsWith(s));
  };
}

function normalizeOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, "");
}

function isSameOrigin(origin: string, host: string | null): boolean {
  if (host === null) return false;
  const o = normalizeOrigin(origin);
  const h = host.trim().toLowerCase();
  return o === `http://${h}` || o === `https://${h}`;
}
