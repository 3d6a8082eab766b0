/**
 * Who may see the dashboard (spec 01 §2.1 as amended by 09-decisions): anyone
 * when `[dashboard].public` is true or no local key exists; otherwise API
 * clients with the key in a header, and browsers with a session cookie from
 * the login page.
 */
import { createSessionStore, SESSION_COOKIE, SESSION_TTL_MS } from "./session.ts";
import type { SessionStore } from "./session.ts";

/** How a request got in, or that it did not. */
export type Access = "open" | "header" | "session" | "denied";

/** Largest login form accepted: the key is at most 512 characters. */
const MAX_FORM_BYTES = 4096;
/** Where a successful login goes when it was not sent from a page. */
export const HOME_PATH = "/";

/** The local-key check the HTTP layer provides (constant time, `http/auth.ts`). */
export interface KeyCheck {
  /** False when no local key is configured. */
  readonly enabled: boolean;
  /** True when the headers carry the local key (`Authorization: Bearer` or `x-api-key`). */
  isAuthorized(headers: Headers): boolean;
}

/** Options for {@linkcode DashboardGate}. */
export interface DashboardGateOptions {
  keys: KeyCheck;
  /** The local key, for the session MAC; undefined when none is configured. */
  localKey: string | undefined;
  isPublic: boolean;
  clock: () => number;
}

/** The dashboard's access check and session cookies. */
export class DashboardGate {
  readonly #keys: KeyCheck;
  readonly #sessions?: SessionStore;
  readonly #clock: () => number;
  /** True when pages need the key (not public and a key is configured). */
  readonly required: boolean;

  constructor(options: DashboardGateOptions) {
    this.#keys = options.keys;
    this.#clock = options.clock;
    const key = options.localKey;
    this.required = !options.isPublic && options.keys.enabled && key !== undefined && key !== "";
    if (this.required) this.#sessions = createSessionStore(key!);
  }

  /** Classifies a request: open dashboard, key header, valid session, or denied. */
  async access(req: Request): Promise<Access> {
    if (!this.required) return "open";
    if (this.#keys.isAuthorized(req.headers)) return "header";
    const cookie = cookieValue(req.headers, SESSION_COOKIE);
    const ok = await this.#sessions!.verify(cookie, this.#clock());
    return ok ? "session" : "denied";
  }

  /** True when `key` is the local key (constant time, through the key checker). */
  isLocalKey(key: string): boolean {
    return this.#keys.isAuthorized(new Headers({ authorization: `Bearer ${key}` }));
  }

  /** The `Set-Cookie` value of a fresh session. */
  async sessionCookie(): Promise<string> {
    const value = await this.#sessions!.issue(this.#clock());
    return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${
      SESSION_TTL_MS / 1000
    }`;
  }

  /**
   * Ends the request's session on the server, so a copy of its cookie stops
   * working too; clearing the cookie alone would leave copies valid.
   */
  async endSession(req: Request): Promise<void> {
    await this.#sessions?.revoke(cookieValue(req.headers, SESSION_COOKIE));
  }

  /** The `Set-Cookie` value that removes the cookie from the browser. */
  clearCookie(): string {
    return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
  }
}

/** The value of cookie `name` in the request's `Cookie` header. */
export function cookieValue(headers: Headers, name: string): string | undefined {
  for (const part of (headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** True for a browser navigation (it asks for HTML), which gets the login page instead of a 401. */
export function wantsHtml(req: Request): boolean {
  return (req.headers.get("accept") ?? "").includes("text/html");
}

/**
 * The same-site path to return to after login, or the home page. The checks
 * run on the normalised text that goes into `Location`, not on the raw value:
 * normalising can turn a harmless-looking `/.//evil.example` into
 * `//evil.example`, which a browser reads as another host.
 */
export function safeNext(raw: string | null | undefined): string {
  if (raw === null || raw === undefined || !raw.startsWith("/") || hasUnsafeChars(raw)) {
    return HOME_PATH;
  }
  const base = "http://dashboard.invalid";
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    return HOME_PATH;
  }
  if (url.origin !== base) return HOME_PATH;
  if (url.pathname === "/login" || url.pathname === "/logout") return HOME_PATH;
  const target = `${url.pathname}${url.search}`;
  return isSamePath(target) ? target : HOME_PATH;
}

/**
 * True when a `Location` value can only mean a path on this origin: one
 * leading `/`, not followed by another `/` or `\`, and nothing a browser
 * would strip or reinterpret.
 */
function isSamePath(location: string): boolean {
  return location.startsWith("/") && location[1] !== "/" && !hasUnsafeChars(location);
}

/** Backslashes (browsers read them as `/`) and control characters. */
function hasUnsafeChars(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x5c) return true;
  }
  return false;
}

/** Reads a urlencoded form of at most {@linkcode MAX_FORM_BYTES}; undefined when larger. */
export async function readSmallForm(req: Request): Promise<URLSearchParams | undefined> {
  if (Number(req.headers.get("content-length") ?? "0") > MAX_FORM_BYTES) return undefined;
  if (req.body === null) return new URLSearchParams();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.byteLength;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return new URLSearchParams(new TextDecoder().decode(bytes));
}
