/**
 * Field builders shared by the config schema parts. Each builder carries its
 * own operator-facing message, so a failed check reads like
 * `must be an integer between 1 and 65535` instead of a validator default.
 */

import { z } from "zod";

/** Environment variable names EggPool accepts in `*_env` keys. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A string value that is exactly `${NAME}` is read from the environment. */
export const ENV_REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** The variable named by a `${NAME}` value, or `undefined` for a plain value. */
export function envReferenceName(value: string): string | undefined {
  return ENV_REFERENCE.exec(value)?.[1];
}

/** Header names EggPool never lets the config set: hop-by-hop or owned by the HTTP client. */
export const FORBIDDEN_HEADERS: ReadonlySet<string> = new Set([
  "connection",
  "content-length",
  "host",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "trailers",
  "transfer-encoding",
  "upgrade",
]);

/** Proxy URL schemes `Deno.createHttpClient` can dial. */
export const PROXY_SCHEMES: readonly string[] = ["http", "https", "socks5", "socks5h"];

const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Range options of {@linkcode num}; `gt`/`lt` are exclusive bounds. */
export interface NumRange {
  int?: boolean;
  min?: number;
  max?: number;
  gt?: number;
}

/** A TOML number with an inclusive/exclusive range and one clear message. */
export function num(range: NumRange = {}) {
  const what = range.int ? "an integer" : "a number";
  const parts: string[] = [];
  if (range.gt !== undefined) parts.push(`greater than ${range.gt}`);
  if (range.min !== undefined && range.max !== undefined) {
    parts.push(`between ${range.min} and ${range.max}`);
  } else if (range.min !== undefined) {
    parts.push(`at least ${range.min}`);
  } else if (range.max !== undefined) {
    parts.push(`at most ${range.max}`);
  }
  const message = `must be ${what}${parts.length ? " " + parts.join(" and ") : ""}`;
  // The same message for a wrong type, so "8080" in quotes reads "must be an integer …".
  return z.number({ error: (iss) => (iss.input === undefined ? undefined : message) }).refine(
    (v) => {
      if (range.int && !Number.isInteger(v)) return false;
      if (range.gt !== undefined && !(v > range.gt)) return false;
      if (range.min !== undefined && v < range.min) return false;
      if (range.max !== undefined && v > range.max) return false;
      return true;
    },
    message,
  );
}

/** True when `v` contains an ASCII control character (including CR, LF, NUL and DEL). */
export function hasControlChars(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** A string that must not be empty or only whitespace. */
export function text() {
  return z.string().refine((v) => v.trim() !== "", "must not be empty");
}

/** A string without CR, LF or NUL (anything that could split an HTTP header). */
export function headerSafeText() {
  return z.string().refine(
    (v) => !/[\r\n\0]/.test(v),
    "must not contain line breaks or NUL characters",
  );
}

/** The name of an environment variable; an empty string means "not used". */
export function envName() {
  return z.string().refine(
    (v) => v === "" || ENV_NAME.test(v),
    "must be an environment variable name (letters, digits and '_', not starting with a digit)",
  );
}

/** An HTTP header name (RFC 9110 token). */
export function headerName() {
  return z.string().refine((v) => HEADER_TOKEN.test(v), "must be a valid HTTP header name");
}

/** Why `value` is not an acceptable upstream base URL, or `undefined` when it is. */
export function baseUrlProblem(value: string): string | undefined {
  if (/\s/.test(value)) return "must not contain whitespace";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be an absolute http:// or https:// URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return "must be an absolute http:// or https:// URL";
  }
  if (url.username !== "" || url.password !== "") {
    return "must not contain a user name or password; use auth or headers instead";
  }
  if (url.search !== "" || url.hash !== "" || value.includes("?") || value.includes("#")) {
    return "must not contain a query string or fragment";
  }
  return undefined;
}

/** An absolute http(s) base URL without credentials, query or fragment. */
export function baseUrl() {
  return z.string().superRefine((v, ctx) => {
    const problem = baseUrlProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
}

/** A request path such as `/chat/completions`. */
export function endpointPath() {
  return z.string().refine(
    (v) => v.trim() !== "" && !/[\s?#]/.test(v),
    "must be a non-empty path without whitespace, query or fragment",
  );
}

/** Why `value` is not a usable proxy URL, or `undefined` when it is. Never echoes the URL. */
export function proxyUrlProblem(value: string): string | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(value.trim())?.[1]?.toLowerCase();
  if (!scheme) return "must be a proxy URL such as http://host:port or socks5://host:port";
  if (!PROXY_SCHEMES.includes(scheme)) {
    return `uses unsupported proxy scheme "${scheme}"; use one of ${PROXY_SCHEMES.join(", ")}`;
  }
  try {
    const url = new URL(value.trim());
    if (url.hostname === "") return "must name a proxy host";
  } catch {
    return "must be a proxy URL such as http://host:port or socks5://host:port";
  }
  return undefined;
}

/** A proxy URL, or a `${NAME}` reference checked once the environment is known. */
export function proxyUrl() {
  return z.string().superRefine((v, ctx) => {
    if (envReferenceName(v)) return;
    const problem = proxyUrlProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
}

/** A loosely typed TOML table that EggPool passes on without checking its keys. */
export function looseTable() {
  return z.record(z.string(), z.unknown());
}

/** An upper-case enum that also accepts the value in any case (`get` → `GET`). */
export function upperEnum<const T extends readonly [string, ...string[]]>(values: T) {
  return z.preprocess((v) => (typeof v === "string" ? v.toUpperCase() : v), z.enum(values));
}
