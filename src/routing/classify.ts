/**
 * Classifying a failed upstream attempt (spec 03 §9.1): may another account
 * serve the request, and what does the failure say about this account? It
 * reads the status, `retry-after` and the JSON error's `type`/`code`, never
 * the free-text message.
 */

/** What a failure means for the account that produced it. */
export type FailureClass =
  | "rate_limited"
  | "quota_exhausted"
  | "auth_failed"
  | "model_unavailable"
  | "overloaded"
  | "server_error"
  | "timeout"
  | "transport"
  | "client_error"
  /** Every connection to the provider stayed busy for `pool_timeout_s`: nobody's fault. */
  | "pool_timeout";

/** The verdict on one failed attempt. */
export interface Failure {
  class: FailureClass;
  /** Another account may serve the request. */
  retryable: boolean;
  /** How long this account should rest; undefined = until the credential changes (auth). */
  cooldownMs: number | undefined;
  statusCode?: number;
  /** Short machine-readable reason, for stats rows (`error_class`). */
  errorClass: string;
}

/** Longest non-terminal suppression (spec 03 §9.1): 30 minutes. */
export const MAX_COOLDOWN_MS = 1_800_000;
/** Cooldown after a 429 without a usable `Retry-After`. */
export const DEFAULT_RATE_LIMIT_COOLDOWN_MS = 60_000;
/** Cooldown after a 5xx. */
export const SERVER_ERROR_COOLDOWN_MS = 20_000;
/** Cooldown after a transport error or timeout. */
export const TRANSPORT_COOLDOWN_MS = 30_000;
/** Cooldown for a model the account says it does not serve. */
export const MODEL_UNAVAILABLE_COOLDOWN_MS = 300_000;

const QUOTA_TYPES = new Set([
  "insufficient_quota",
  "billing_error",
  "quota_exceeded",
  "credit_balance_too_low",
  "payment_required",
]);
const AUTH_TYPES = new Set([
  "authentication_error",
  "invalid_api_key",
  "permission_error",
  "unauthorized",
]);
const MODEL_TYPES = new Set(["model_not_found", "not_found_error", "model_not_available"]);
const RATE_TYPES = new Set(["rate_limit_error", "rate_limit_exceeded", "requests", "tokens"]);

/**
 * Parses `Retry-After`: delay seconds or an HTTP date (RFC 9110 §10.2.3).
 * Returns milliseconds from `now`, or undefined when absent or invalid.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // An HTTP date names its weekday and month; bare numbers like "-3" are not dates.
  if (!/[a-z]{3}/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** The `type` and `code` strings of an OpenAI or Anthropic error body, lower-cased. */
export function errorTokens(body: unknown): string[] {
  if (typeof body !== "object" || body === null) return [];
  const err = (body as { error?: unknown }).error;
  if (typeof err !== "object" || err === null) return [];
  const out: string[] = [];
  for (const key of ["type", "code"]) {
    const v = (err as Record<string, unknown>)[key];
    if (typeof v === "string" && v !== "") out.push(v.toLowerCase());
  }
  return out;
}

function hasAny(tokens: readonly string[], set: ReadonlySet<string>): boolean {
  return tokens.some((t) => set.has(t));
}

function clampCooldown(ms: number): number {
  return Math.min(MAX_COOLDOWN_MS, Math.max(0, ms));
}

/** Options for {@linkcode classifyResponse}. */
export interface ClassifyOptions {
  now: number;
  quotaCooldownMs: number;
}

/** Classifies an upstream HTTP error response (status ≥ 400). */
export function classifyResponse(
  status: number,
  headers: Headers,
  body: unknown,
  options: ClassifyOptions,
): Failure {
  const tokens = errorTokens(body);
  const retryAfter = parseRetryAfter(headers.get("retry-after"), options.now);
  const make = (cls: FailureClass, retryable: boolean, cooldownMs: number | undefined) => ({
    class: cls,
    retryable,
    cooldownMs: cooldownMs === undefined ? undefined : clampCooldown(cooldownMs),
    statusCode: status,
    errorClass: `upstream_${cls}`,
  });
  if (status === 429) {
    if (hasAny(tokens, QUOTA_TYPES)) return make("quota_exhausted", true, options.quotaCooldownMs);
    return make("rate_limited", true, retryAfter ?? DEFAULT_RATE_LIMIT_COOLDOWN_MS);
  }
  if (status === 402) return make("quota_exhausted", true, options.quotaCooldownMs);
  if (status === 401) return make("auth_failed", true, undefined);
  if (status === 403) {
    if (hasAny(tokens, QUOTA_TYPES)) return make("quota_exhausted", true, options.quotaCooldownMs);
    if (hasAny(tokens, AUTH_TYPES)) return make("auth_failed", true, undefined);
    return make("client_error", false, 0);
  }
  if (status === 404 && hasAny(tokens, MODEL_TYPES)) {
    return make("model_unavailable", true, MODEL_UNAVAILABLE_COOLDOWN_MS);
  }
  if (status === 408) return make("timeout", true, TRANSPORT_COOLDOWN_MS);
  if ((status === 409 || status === 422) && hasAny(tokens, RATE_TYPES)) {
    return make("rate_limited", true, retryAfter ?? DEFAULT_RATE_LIMIT_COOLDOWN_MS);
  }
  if (status === 529 || hasAny(tokens, new Set(["overloaded_error", "overloaded"]))) {
    return make("overloaded", true, retryAfter ?? SERVER_ERROR_COOLDOWN_MS);
  }
  if (status >= 500) return make("server_error", true, retryAfter ?? SERVER_ERROR_COOLDOWN_MS);
  return make("client_error", false, 0);
}

/** Classifies an error event that arrived inside a 200 stream before any content. */
export function classifyStreamError(errorType: string | undefined): Failure {
  const t = (errorType ?? "").toLowerCase();
  const cls: FailureClass = t === "rate_limit_error"
    ? "rate_limited"
    : QUOTA_TYPES.has(t)
    ? "quota_exhausted"
    : AUTH_TYPES.has(t)
    ? "auth_failed"
    : t === "overloaded_error"
    ? "overloaded"
    : "server_error";
  const cooldown = cls === "auth_failed"
    ? undefined
    : cls === "rate_limited"
    ? DEFAULT_RATE_LIMIT_COOLDOWN_MS
    : SERVER_ERROR_COOLDOWN_MS;
  return { class: cls, retryable: true, cooldownMs: cooldown, errorClass: `stream_${cls}` };
}

/** Classifies a transport failure (no HTTP response): timeouts and connection errors. */
export function classifyTransport(timedOut: boolean): Failure {
  return timedOut
    ? {
      class: "timeout",
      retryable: true,
      cooldownMs: TRANSPORT_COOLDOWN_MS,
      errorClass: "upstream_timeout",
    }
    : {
      class: "transport",
      retryable: true,
      cooldownMs: TRANSPORT_COOLDOWN_MS,
      errorClass: "upstream_connection_error",
    };
}

/**
 * What two failures of the same request share when the request itself caused
 * them (issue #12): status and error type/code. Only a 500 qualifies: a body
 * the upstream cannot handle typically crashes it, while 502–504 and 529 say
 * the provider is down or busy, which another account may well escape.
 * Undefined = the failure is the account's for sure.
 */
export function failureSignature(failure: Failure, body: unknown): string | undefined {
  if (failure.class !== "server_error" || failure.statusCode !== 500) return undefined;
  return `500 ${errorTokens(body).join(" ")}`;
}
