/**
 * Rules that compare several keys (spec 02 §9–§12). They read the raw TOML
 * data defensively instead of the parsed config, so they still run when an
 * unrelated key failed its type check, and every problem is reported at once.
 * Values of the wrong type are skipped here; the schema already names them.
 */

import type { KeyedIssue, PathSegment } from "./_key_path.ts";
import { formatKeyPath } from "./_key_path.ts";
import { FORBIDDEN_HEADERS } from "./schema_fields.ts";
import { PROVIDER_ID } from "./schema_providers.ts";
import { unsupportedTranscoderKeys } from "./schema_transcoder.ts";
import { capabilityFindings } from "./schema_capabilities.ts";
import { asTable } from "./_table.ts";

type Table = Record<string, unknown>;

/** Errors and warnings found by {@linkcode checkConfigRules}. */
export interface RuleFindings {
  errors: KeyedIssue[];
  warnings: KeyedIssue[];
}

/** Base URL endings whose segment must not be repeated by an endpoint path. */
const VERSION_SUFFIXES = ["/compatible-mode/v1", "/api/v1", "/v1"];

/** Checks every cross-key rule on raw TOML data. */
export function checkConfigRules(raw: unknown): RuleFindings {
  const out: RuleFindings = { errors: [], warnings: [] };
  const root = asTable(raw) ?? {};
  const proxies = asTable(root.proxies) ?? {};
  const names = new Map<string, readonly PathSegment[]>();
  const providers = asTable(root.providers);
  const hasProviders = providers !== undefined && Object.keys(providers).length > 0;

  for (const [key, value] of Object.entries(providers ?? {})) {
    const p = asTable(value);
    if (p) checkProvider(p, key, { out, proxies, names });
  }
  const legacy = Array.isArray(root.accounts) ? root.accounts : [];
  if (legacy.length > 0 && hasProviders) {
    out.warnings.push({
      segments: ["accounts"],
      message: "top-level [[accounts]] are ignored because [providers] tables exist",
    });
  } else if (legacy.length > 0) {
    checkAccounts(legacy, ["accounts"], "bearer", { out, proxies, names });
  }

  for (const [name, value] of Object.entries(proxies)) {
    const p = asTable(value);
    if (!p) continue;
    const count = ["url", "url_env"].filter((k) => p[k] !== undefined).length;
    if (count !== 1) {
      out.errors.push({
        segments: ["proxies", name],
        message: "must set exactly one of url or url_env",
      });
    }
  }
  checkKeepalive(asTable(root.upstream), ["upstream"], [16, 4], out);
  checkKeepalive(asTable(root.network), ["network"], [8, 2], out);
  checkOverrides(asTable(root.model_overrides), ["model_overrides"], out);
  checkSecurity(asTable(root.security), out);
  checkUnsupported(root, out);
  const probe = asTable(root.readiness_probe);
  if (probe) {
    const interval = numberOr(probe.interval_s, 10);
    const freshness = numberOr(probe.freshness_s, 30);
    if (interval !== undefined && freshness !== undefined && !(freshness > interval)) {
      out.errors.push({
        segments: ["readiness_probe", "freshness_s"],
        message: "must be greater than readiness_probe.interval_s",
      });
    }
  }
  return out;
}

interface RuleState {
  out: RuleFindings;
  proxies: Table;
  names: Map<string, readonly PathSegment[]>;
}

function checkProvider(p: Table, key: string, st: RuleState): void {
  const at = ["providers", key];
  const { errors } = st.out;
  if (!PROVIDER_ID.test(key)) {
    errors.push({
      segments: at,
      message: "provider id must be letters, digits and dashes, not starting or ending with a dash",
    });
  }
  if (typeof p.id === "string" && p.id !== key) {
    errors.push({ segments: [...at, "id"], message: `must equal the table name "${key}"` });
  }
  checkKeepalive(p, at, [32, 8], st.out);
  checkVersionGuard(p, at, st.out);
  const auth = asTable(p.auth) ?? {};
  const mode = typeof auth.mode === "string" ? auth.mode : "bearer";
  const authHeader = typeof auth.header === "string" ? auth.header : "Authorization";
  if (FORBIDDEN_HEADERS.has(authHeader.toLowerCase())) {
    errors.push({
      segments: [...at, "auth", "header"],
      message: `"${authHeader}" is managed by the HTTP client and cannot carry credentials`,
    });
  }
  checkHeaders(p.headers, at, mode === "none" ? undefined : authHeader, st.out);
  checkStaticModels(p.static_models, [...at, "static_models"], st.out);
  checkOverrides(asTable(p.model_overrides), [...at, "model_overrides"], st.out);
  if (Array.isArray(p.accounts)) checkAccounts(p.accounts, [...at, "accounts"], mode, st);
  const none = !Array.isArray(p.accounts) || p.accounts.length === 0;
  if (none && p.enabled !== false) {
    errors.push({
      segments: at,
      message: `has no accounts: add a [[providers.${key}.accounts]] table (name and ` +
        "api_key_env), or set enabled = false to keep the provider switched off",
    });
  }
}

function checkAccounts(
  list: readonly unknown[],
  at: readonly PathSegment[],
  authMode: string,
  st: RuleState,
): void {
  const { errors } = st.out;
  list.forEach((value, i) => {
    const a = asTable(value);
    if (!a) return;
    const here = [...at, i];
    if (typeof a.name === "string" && a.name.trim() !== "") {
      const first = st.names.get(a.name);
      if (first) {
        errors.push({
          segments: [...here, "name"],
          message: `account name "${a.name}" is already used by ${
            formatKeyPath(first)
          }; names must be unique across all providers`,
        });
      } else {
        st.names.set(a.name, here);
      }
    }
    const proxyKeys = ["proxy", "proxy_url", "proxy_url_env"].filter((k) => a[k] !== undefined);
    if (proxyKeys.length > 1) {
      errors.push({
        segments: [...here, proxyKeys[1]],
        message: `set only one of proxy, proxy_url or proxy_url_env (found ${
          proxyKeys.join(", ")
        })`,
      });
    }
    if (typeof a.proxy === "string" && !(a.proxy in st.proxies)) {
      errors.push({
        segments: [...here, "proxy"],
        message: `names proxy "${a.proxy}" but there is no [proxies.${a.proxy}] table`,
      });
    }
    const noEnv = a.api_key_env === undefined || a.api_key_env === "";
    if (authMode !== "none" && a.api_key === undefined && noEnv) {
      errors.push({
        segments: [...here, "api_key_env"],
        message: 'needs api_key or api_key_env (the provider\'s auth mode is not "none")',
      });
    }
  });
}

function checkHeaders(
  value: unknown,
  at: readonly PathSegment[],
  authHeader: string | undefined,
  out: RuleFindings,
): void {
  if (!Array.isArray(value)) return;
  const seen = new Set<string>();
  value.forEach((item, i) => {
    const h = asTable(item);
    if (!h) return;
    const here = [...at, "headers", i];
    const hasValue = h.value !== undefined;
    const hasEnv = h.value_env !== undefined;
    if (hasValue === hasEnv) {
      out.errors.push({ segments: here, message: "must set exactly one of value or value_env" });
    }
    if (typeof h.name !== "string") return;
    const lower = h.name.toLowerCase();
    if (FORBIDDEN_HEADERS.has(lower)) {
      out.errors.push({
        segments: [...here, "name"],
        message: `"${h.name}" is a hop-by-hop or client-managed header and cannot be set`,
      });
    } else if (authHeader !== undefined && lower === authHeader.toLowerCase()) {
      out.errors.push({
        segments: [...here, "name"],
        message: `"${h.name}" is the auth header; credentials come from the accounts`,
      });
    }
    if (seen.has(lower)) {
      out.errors.push({
        segments: [...here, "name"],
        message: `header "${h.name}" is listed twice (names are case-insensitive)`,
      });
    }
    seen.add(lower);
  });
}

function checkStaticModels(value: unknown, at: readonly PathSegment[], out: RuleFindings): void {
  if (!Array.isArray(value)) return;
  const ids = new Set<string>();
  value.forEach((item, i) => {
    const m = asTable(item);
    if (!m) return;
    if (typeof m.id === "string") {
      if (ids.has(m.id)) {
        out.errors.push({
          segments: [...at, i, "id"],
          message: `model id "${m.id}" is listed twice`,
        });
      }
      ids.add(m.id);
    }
    checkLimits(m, [...at, i], out);
  });
}

function checkOverrides(
  value: Table | undefined,
  at: readonly PathSegment[],
  out: RuleFindings,
): void {
  for (const [model, entry] of Object.entries(value ?? {})) {
    const t = asTable(entry);
    if (t) checkLimits(t, [...at, model], out);
  }
}

function checkLimits(t: Table, at: readonly PathSegment[], out: RuleFindings): void {
  const context = t.max_context_tokens;
  if (typeof context !== "number") return;
  for (const key of ["max_input_tokens", "max_output_tokens"]) {
    const v = t[key];
    if (typeof v === "number" && v > context) {
      out.errors.push({
        segments: [...at, key],
        message: `must not exceed max_context_tokens (${context})`,
      });
    }
  }
}

function checkKeepalive(
  t: Table | undefined,
  at: readonly PathSegment[],
  defaults: readonly [number, number],
  out: RuleFindings,
): void {
  if (!t) return;
  const connections = numberOr(t.max_connections, defaults[0]);
  const keepalive = numberOr(t.max_keepalive, defaults[1]);
  if (connections !== undefined && keepalive !== undefined && keepalive > connections) {
    out.errors.push({
      segments: [...at, "max_keepalive"],
      message: `must not exceed max_connections (${connections})`,
    });
  }
}

/** Refuses endpoint paths that repeat the version segment `base_url` ends with (`/v1/v1`). */
function checkVersionGuard(p: Table, at: readonly PathSegment[], out: RuleFindings): void {
  if (typeof p.base_url !== "string") return;
  const base = p.base_url.replace(/\/+$/, "");
  const suffix = VERSION_SUFFIXES.find((s) => base.endsWith(s));
  if (!suffix) return;
  const paths: [readonly PathSegment[], unknown][] = [
    [[...at, "openai_path"], p.openai_path],
    [[...at, "anthropic_path"], p.anthropic_path],
    [[...at, "responses_path"], p.responses_path],
    [[...at, "models_path"], p.models_path],
    [[...at, "models_endpoint", "path"], asTable(p.models_endpoint)?.path],
  ];
  for (const [segments, value] of paths) {
    if (typeof value !== "string") continue;
    const path = "/" + value.replace(/^\/+/, "");
    if (path.startsWith(suffix + "/") || path.startsWith("/v1/")) {
      out.errors.push({
        segments,
        message: `repeats the version segment that base_url already ends with ("${suffix}"); ` +
          `requests would go to ${suffix}${path}`,
      });
    }
  }
}

/** Header names are RFC 9110 tokens. */
const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * `[security]` values the HTTP layer could not use as written: each would
 * otherwise be silently ineffective (a CORS origin with a path never matches
 * an `Origin` header, a host with a scheme never matches `Host`).
 */
function checkSecurity(t: Table | undefined, out: RuleFindings): void {
  if (!t) return;
  const list = (key: string) =>
    Array.isArray(t[key])
      ? (t[key] as unknown[]).flatMap((v, i) => typeof v === "string" ? [[v, i] as const] : [])
      : [];
  for (const [origin, i] of list("cors_origins")) {
    if (origin.trim() === "*") {
      out.warnings.push({
        segments: ["security", "cors_origins", i],
        message: '"*" lets every web page the user opens call this server; ' +
          "list the origins that need it instead",
      });
      continue;
    }
    if (!isOrigin(origin)) {
      out.errors.push({
        segments: ["security", "cors_origins", i],
        message: `"${origin}" is not an origin: write scheme://host[:port] with no path, ` +
          `e.g. "http://localhost:5173"`,
      });
    }
  }
  for (const [host, i] of list("allowed_hosts")) {
    const h = host.trim();
    if (h === "" || /[/\\@?#\s]/.test(h) || h.includes("://")) {
      out.errors.push({
        segments: ["security", "allowed_hosts", i],
        message: `"${host}" is not a host name: list names as clients send them in Host, ` +
          `e.g. "eggpool.lan" or "192.168.1.20" (no scheme, path or port needed)`,
      });
    }
  }
  for (const [name, i] of list("redact_headers")) {
    if (!HEADER_TOKEN.test(name.trim())) {
      out.errors.push({
        segments: ["security", "redact_headers", i],
        message: `"${name}" is not a header name (letters, digits and !#$%&'*+.^_\`|~-)`,
      });
    }
  }
}

function isOrigin(value: string): boolean {
  const v = value.trim().replace(/\/+$/, "");
  try {
    const url = new URL(v);
    return (url.protocol === "http:" || url.protocol === "https:") &&
      url.origin.toLowerCase() === v.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * Keys the schema accepts for compatibility with the Python version's files
 * but whose non-default values this version cannot honour: refused, naming
 * the key and what to do, rather than accepted and ignored.
 */
function checkUnsupported(root: Table, out: RuleFindings): void {
  out.errors.push(...unsupportedTranscoderKeys(root.transcoder));
  const caps = capabilityFindings(root);
  out.errors.push(...caps.errors);
  out.warnings.push(...caps.warnings);
  const db = asTable(root.database);
  if (db && typeof db.worker_threads === "number" && db.worker_threads !== 1) {
    out.errors.push({
      segments: ["database", "worker_threads"],
      message: "a second, read-only SQLite connection for the dashboard is not supported: " +
        "EggPool serves stats from its one connection (reads are short and batched). " +
        "Remove the key or set it to 1",
    });
  }
  const security = asTable(root.security);
  if (security && security.persist_redacted_error_detail === true) {
    out.errors.push({
      segments: ["security", "persist_redacted_error_detail"],
      message: "storing redacted upstream error bodies is not supported: requests keep " +
        "error_class and error_message only, and nothing else of an upstream answer is " +
        "written. Remove the key or set it to false",
    });
  }
}

/** The number at a key, its default when absent, or `undefined` when the type is wrong. */
function numberOr(v: unknown, fallback: number): number | undefined {
  if (v === undefined) return fallback;
  return typeof v === "number" ? v : undefined;
}
