/**
 * The dashboard's browser session (09-decisions: a login page that takes the
 * local key and sets a session cookie). The cookie holds only an expiry and an
 * HMAC-SHA256 over it keyed by the local key, never the key itself, so
 * changing the key ends every session.
 */
import { sameText } from "../core/same_text.ts";

/** Name of the session cookie. */
export const SESSION_COOKIE = "eggpool_session";
/** How long a login lasts. */
export const SESSION_TTL_MS = 7 * 24 * 3_600_000;

const VERSION = "v1";
/** Domain separation: the MAC is over this label and the expiry, not the bare number. */
const LABEL = "eggpool-dashboard-session";
const ENCODER = new TextEncoder();

/** Issues and checks session cookie values. */
export interface SessionSigner {
  /** A cookie value valid until `now + SESSION_TTL_MS`. */
  issue(now: number): Promise<string>;
  /** True when `value` was issued with the same key and has not expired at `now`. */
  verify(value: string | undefined, now: number): Promise<boolean>;
}

function base64Url(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Builds a signer whose MAC key is the local API key. */
export function createSessionSigner(localKey: string): SessionSigner {
  const keyPromise = crypto.subtle.importKey(
    "raw",
    ENCODER.encode(localKey),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  async function mac(expiry: string): Promise<string> {
    const sig = await crypto.subtle.sign(
      "HMAC",
      await keyPromise,
      ENCODER.encode(`${LABEL}.${VERSION}.${expiry}`),
    );
    return base64Url(new Uint8Array(sig));
  }
  return {
    async issue(now) {
      const expiry = String(now + SESSION_TTL_MS);
      return `${VERSION}.${expiry}.${await mac(expiry)}`;
    },
    async verify(value, now) {
      if (value === undefined) return false;
      const parts = value.split(".");
      if (parts.length !== 3 || parts[0] !== VERSION || !/^\d{1,16}$/.test(parts[1])) return false;
      // The MAC is base64url text: ASCII, as sameText expects.
      return sameText(parts[2], await mac(parts[1])) && Number(parts[1]) > now;
    },
  };
}
