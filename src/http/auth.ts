import { timingSafeEqual } from "node:crypto";

/** Keys we accept from clients (spec 01 §2): letters, digits, `_` and `-`, 8 to 512 long. */
const KEY_SHAPE = /^[A-Za-z0-9_-]{8,512}$/;
const BEARER = /^bearer[ \t]+(.+)$/i;

/** Checks presented keys against the configured local key in constant time. */
export interface KeyChecker {
  /** True when the request carries the right key (or no key is configured). */
  isAuthorized(headers: Headers): boolean;
  readonly enabled: boolean;
}

const ENCODER = new TextEncoder();

/** The key a request presents: `Authorization: Bearer K`, else `x-api-key: K`. */
export function presentedKey(headers: Headers): string | undefined {
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
 * another length is compared against the expected bytes all the same, so
 * only its length, never its content, can show in the timing.
 */
export function createKeyChecker(configuredKey: string | undefined): KeyChecker {
  if (configuredKey === undefined || configuredKey === "") {
    return { enabled: false, isAuthorized: () => true };
  }
  const expected = ENCODER.encode(configuredKey);
  return {
    enabled: true,
    isAuthorized(headers) {
      const key = presentedKey(headers);
      if (key === undefined || !KEY_SHAPE.test(key)) return false;
      const given = ENCODER.encode(key);
      if (given.byteLength !== expected.byteLength) {
        timingSafeEqual(expected, expected);
        return false;
      }
      return timingSafeEqual(given, expected);
    },
  };
}
