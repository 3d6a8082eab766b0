/**
 * The dashboard's browser session (09-decisions: a login page that takes the
 * local key and sets a session cookie). The cookie holds a random session id,
 * an expiry and an HMAC-SHA256 over both keyed by the local key, never the
 * key itself, so changing the key ends every session. The server also keeps
 * the ids it issued: logging out forgets the id, so a copy of the cookie
 * taken before logout no longer opens anything (issue #12). The list lives in
 * memory, so a restart ends every session too.
 */
import { sameText } from "../core/same_text.ts";

/** Name of the session cookie. */
export const SESSION_COOKIE = "eggpool_session";
/** How long a login lasts. */
export const SESSION_TTL_MS = 7 * 24 * 3_600_000;
/** Sessions kept at once; a new login past this ends the one closest to expiry. */
export const MAX_LIVE_SESSIONS = 256;

const VERSION = "v2";
/** Domain separation: the MAC is over this label, the id and the expiry. */
const LABEL = "eggpool-dashboard-session";
const ENCODER = new TextEncoder();
const ID_BYTES = 18;

/** Issues, checks and ends sessions. */
export interface SessionStore {
  /** A cookie value for a new session, valid until `now + SESSION_TTL_MS` or logout. */
  issue(now: number): Promise<string>;
  /** True when `value` was issued here with the same key, is live and has not expired at `now`. */
  verify(value: string | undefined, now: number): Promise<boolean>;
  /** Ends the session `value` names, if it is one of ours. */
  revoke(value: string | undefined): Promise<void>;
  /** Number of live sessions (tests, diagnostics). */
  readonly size: number;
}

function base64Url(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

const ID_SHAPE = /^[A-Za-z0-9_-]{24}$/;
const EXPIRY_SHAPE = /^\d{1,16}$/;

/** Builds a session store whose MAC key is the local API key. */
export function createSessionStore(localKey: string): SessionStore {
  const keyPromise = crypto.subtle.importKey(
    "raw",
    ENCODER.encode(localKey),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  /** Session id → expiry (ms). */
  const live = new Map<string, number>();
  async function mac(id: string, expiry: string): Promise<string> {
    const sig = await crypto.subtle.sign(
      "HMAC",
      await keyPromise,
      ENCODER.encode(`${LABEL}.${VERSION}.${id}.${expiry}`),
    );
    return base64Url(new Uint8Array(sig));
  }
  /** The id of a well-formed value whose MAC checks out, else undefined. */
  async function authentic(value: string | undefined) {
    if (value === undefined) return undefined;
    const parts = value.split(".");
    if (parts.length !== 4 || parts[0] !== VERSION) return undefined;
    const [, id, expiry, tag] = parts;
    if (!ID_SHAPE.test(id) || !EXPIRY_SHAPE.test(expiry)) return undefined;
    // The MAC is base64url text: ASCII, as sameText expects.
    if (!sameText(tag, await mac(id, expiry))) return undefined;
    return { id, expiry: Number(expiry) };
  }
  function makeRoom(now: number): void {
    for (const [id, expiry] of live) if (expiry <= now) live.delete(id);
    // All live and still full: the oldest login (first inserted) goes.
    for (const id of live.keys()) {
      if (live.size < MAX_LIVE_SESSIONS) break;
      live.delete(id);
    }
  }
  return {
    async issue(now) {
      if (live.size >= MAX_LIVE_SESSIONS) makeRoom(now);
      const id = base64Url(crypto.getRandomValues(new Uint8Array(ID_BYTES)));
      const expiry = now + SESSION_TTL_MS;
      live.set(id, expiry);
      return `${VERSION}.${id}.${expiry}.${await mac(id, String(expiry))}`;
    },
    async verify(value, now) {
      const s = await authentic(value);
      if (s === undefined || live.get(s.id) !== s.expiry) return false;
      if (s.expiry > now) return true;
      live.delete(s.id);
      return false;
    },
    async revoke(value) {
      const s = await authentic(value);
      if (s !== undefined) live.delete(s.id);
    },
    get size() {
      return live.size;
    },
  };
}
