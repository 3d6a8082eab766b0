import { createHash, timingSafeEqual } from "node:crypto";

/** Keys we accept from clients (spec 01 §2): letters, digits, `_` and `-`, 8 to 512 long. */
const KEY_SHAPE = /^[A-Za-z0-9_-]{8,512}$/;
const BEARER = /^bearer[ \t]+(.+)$/i;

/** Checks presented keys against the configured local key in constant time. */
export interface KeyChecker {
  /** True when the request carries the right key (or no key is configured). */
  isAuthorized(headers: Headers): boolean;
  readonly enabled: boolean;
}

function digest(value: string): Uint8Array {
  return createHash("sha256").update(value).digest();
}

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
 * Both sides are hashed first so the comparison time does not depend on
 * where the strings differ or on their lengths.
 */
export function createKeyChecker(configuredKey: string | undefined): KeyChecker {
  if (configuredKey === undefined || configuredKey === "") {
    return { enabled: false, isAuthorized: () => true };
  }
  const expected = digest(configuredKey);
  return {
    enabled: true,
    isAuthorized(headers) {
      const key = presentedKey(headers);
      if (key === undefined || !KEY_SHAPE.test(key)) return false;
      return timingSafeEqual(digest(key), expected);
    },
  };
}
