/**
 * A short, stable fingerprint of an account's credential, stored with the
 * account and on auth backoffs so a replaced key lifts an auth failure
 * (09-decisions). Never reversible to the key.
 */
import { sha256Hex } from "../core/sha256.ts";

/** Hex characters kept from the SHA-256 digest: enough to tell keys apart, useless to attackers. */
const FINGERPRINT_HEX_CHARS = 16;

/** The fingerprint of `key`; undefined when there is no key. */
export function credentialFingerprint(key: string | undefined): string | undefined {
  return key === undefined ? undefined : sha256Hex(key).slice(0, FINGERPRINT_HEX_CHARS);
}
