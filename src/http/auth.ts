import type { HeaderReader } from "../core/headers.ts";
import { sameText } from "../core/same_text.ts";
// Keys we accept from clients have the configured key's format (spec 01 §2).
import { SERVER_KEY_FORMAT as KEY_SHAPE } from "../config/credentials.ts";

const BEARER = /^bearer[ \t]+(.+)$/i;

/** Checks presented keys against the configured local key in constant time. */
export interface KeyChecker {
  /** True when the request carries the right key (or no key is configured). */
  isAuthorized(headers: HeaderReader): boolean;
  readonly enabled: boolean;
}

/** The key a request presents: `Authorization: Bearer K`, else `x-api-key: K`. */
export function presentedKey(headers: HeaderReader): string | undefined {
  const auth = headers.get("authorization")?.trim();
  if (auth) {
    const m = BEARER.exec(auth);
    if (m) return m[1].trim();
  }
  const apiKey = headers.get("x-api-key")?.trim();
  return apiKey === "" ? undefined : apiKey;
}

/**
 * Builds a checker for `configuredKey`; with no key every request passes
 * (allowed only on loopback binds, which config validation enforces).
 * The comparison time does not depend on where the keys differ; a key of
 * another length is compared against the expected characters all the same,
 * so only its length, never its content, can show in the timing.
 */
export function createKeyChecker(configuredKey: string | undefined): KeyChecker {
  if (configuredKey === undefined || configuredKey === "") {
    return { enabled: false, isAuthorized: () => true };
  }
  return {
    enabled: true,
    isAuthorized(headers) {
      const key = presentedKey(headers);
      if (key === undefined || !KEY_SHAPE.test(key)) return false;
      // Both have the server key's format (config validation checks the configured one): ASCII.
      return sameText(key, configuredKey);
    },
  };
}
