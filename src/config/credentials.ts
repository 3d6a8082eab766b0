/**
 * Credential resolution and checks (spec 02 §10, 01 §2). Keys are read from
 * the loaded config's environment view on demand and are never copied into
 * messages: problems name the key path or the environment variable instead.
 */

import { ConfigError, type ConfigIssue } from "../core/errors.ts";
import { formatKeyPath, type PathSegment } from "./_key_path.ts";
import type { ResolvedAccountConfig, ResolvedProviderConfig } from "./schema.ts";
import { envReferenceName, proxyUrlProblem } from "./schema_fields.ts";
import type { EnvLookup, LoadedConfig } from "./types.ts";

/** The local API key format (01 §2). */
export const SERVER_KEY_FORMAT = /^[A-Za-z0-9_-]{8,512}$/;

/** Placeholder keys copied from examples and docs (02 §10), compared lower-cased. */
const PLACEHOLDER_KEYS: ReadonlySet<string> = new Set([
  "your-proxy-api-key",
  "your-opencode-go-key-1",
  "your-opencode-go-key-2",
  "your-api-key-here",
  "your-local-api-key-here",
  "changeme",
  "change-me",
  "replace-me",
  "replaceme",
  "placeholder",
  "api-key",
  "apikey",
  "secret",
  "todo",
]);

/** True for keys that are obviously examples rather than real credentials. */
export function isPlaceholderKey(key: string): boolean {
  const k = key.trim().toLowerCase();
  if (PLACEHOLDER_KEYS.has(k)) return true;
  if (/^your[-_]/.test(k)) return true;
  if (/^sk-your[-_]/.test(k)) return true;
  if (/replace[-_]?me|placeholder|<[^>]*>/.test(k)) return true;
  // All x's, optionally behind a short prefix: "xxxx", "sk-xxxxxxxx".
  return /^([a-z]{1,6}[-_])?x{3,}$/.test(k);
}

/** Where an account's key comes from; the value itself stays inside. */
type KeySource =
  | { kind: "inline"; value: string }
  | { kind: "env"; name: string; via: "api_key" | "api_key_env"; value?: string }
  | { kind: "none" };

function keySource(account: ResolvedAccountConfig, env: EnvLookup): KeySource {
  if (account.api_key !== undefined && account.api_key !== "") {
    const ref = envReferenceName(account.api_key);
    if (ref) return { kind: "env", name: ref, via: "api_key", value: env(ref) };
    return { kind: "inline", value: account.api_key };
  }
  if (account.api_key_env !== "") {
    const name = account.api_key_env;
    return { kind: "env", name, via: "api_key_env", value: env(name) };
  }
  return { kind: "none" };
}

function findAccount(
  loaded: LoadedConfig,
  providerId: string,
  accountName: string,
): { provider: ResolvedProviderConfig; account: ResolvedAccountConfig; index: number } | undefined {
  const provider = loaded.config.providers[providerId];
  if (!provider) return undefined;
  const index = provider.accounts.findIndex((a) => a.name === accountName);
  return index < 0 ? undefined : { provider, account: provider.accounts[index], index };
}

/** The upstream key of one account, resolved from inline value or environment. */
export function resolveAccountKey(
  loaded: LoadedConfig,
  providerId: string,
  accountName: string,
): string | undefined {
  const found = findAccount(loaded, providerId, accountName);
  if (!found || found.provider.auth.mode === "none") return undefined;
  const source = keySource(found.account, loaded.env);
  if (source.kind === "none") return undefined;
  const value = source.value?.trim();
  return value === "" ? undefined : value;
}

/** `inline`, `env:VAR (set)`, `env:VAR (missing)`, `none` or `not needed`; never the key. */
export function describeKeySource(
  loaded: LoadedConfig,
  providerId: string,
  accountName: string,
): string {
  const found = findAccount(loaded, providerId, accountName);
  if (!found) return "unknown account";
  if (found.provider.auth.mode === "none") return "not needed (auth mode none)";
  const source = keySource(found.account, loaded.env);
  if (source.kind === "inline") return "inline";
  if (source.kind === "none") return "none";
  const set = source.value !== undefined && source.value.trim() !== "";
  return `env:${source.name} (${set ? "set" : "missing"})`;
}

/** The local API key clients must present, or `undefined` when auth is off. */
export function resolveServerApiKey(loaded: LoadedConfig): string | undefined {
  const s = serverKeySource(loaded);
  return s.value === undefined || s.value.trim() === "" ? undefined : s.value;
}

function serverKeySource(loaded: LoadedConfig): { label: string; value?: string } {
  const { api_key, api_key_env } = loaded.config.server;
  if (api_key !== undefined && api_key !== "") {
    const ref = envReferenceName(api_key);
    return ref
      ? { label: `env:${ref}`, value: loaded.env(ref) }
      : { label: "inline", value: api_key };
  }
  return { label: `env:${api_key_env}`, value: loaded.env(api_key_env) };
}

/** `inline`, `env:VAR (set)` or `env:VAR (missing)` for the local API key. */
export function describeServerKeySource(loaded: LoadedConfig): string {
  const s = serverKeySource(loaded);
  if (s.label === "inline") return "inline";
  return `${s.label} (${s.value !== undefined && s.value.trim() !== "" ? "set" : "missing"})`;
}

/** The outbound proxy URL of an account after `[proxies.x]` and env lookups. */
export function resolveAccountProxyUrl(
  loaded: LoadedConfig,
  providerId: string,
  accountName: string,
): string | undefined {
  const found = findAccount(loaded, providerId, accountName);
  if (!found) return undefined;
  const value = proxyFor(loaded, found.account)?.value?.trim();
  return value === "" ? undefined : value;
}

/** The static upstream headers of a provider with `value_env`/`${NAME}` resolved. */
export function resolveProviderHeaders(
  loaded: LoadedConfig,
  providerId: string,
): { name: string; value: string }[] {
  const provider = loaded.config.providers[providerId];
  if (!provider) return [];
  const out: { name: string; value: string }[] = [];
  for (const h of provider.headers) {
    const value = headerValue(h, loaded.env).value;
    if (value !== undefined) out.push({ name: h.name, value });
  }
  return out;
}

function headerValue(
  h: { value?: string; value_env?: string },
  env: EnvLookup,
): { env?: string; value?: string } {
  if (h.value_env !== undefined) return { env: h.value_env, value: env(h.value_env) };
  const ref = h.value === undefined ? undefined : envReferenceName(h.value);
  return ref ? { env: ref, value: env(ref) } : { value: h.value };
}

interface ProxyLookup {
  /** Key path the value came from, for messages. */
  segments: PathSegment[];
  /** The environment variable consulted, when one was. */
  env?: string;
  value?: string;
}

function proxyFor(loaded: LoadedConfig, account: ResolvedAccountConfig): ProxyLookup | undefined {
  const { env } = loaded;
  if (account.proxy !== undefined) {
    const p = loaded.config.proxies[account.proxy];
    if (!p) return undefined;
    const at = ["proxies", account.proxy];
    if (p.url_env !== undefined) {
      return { segments: [...at, "url_env"], env: p.url_env, value: env(p.url_env) };
    }
    const ref = p.url === undefined ? undefined : envReferenceName(p.url);
    return { segments: [...at, "url"], env: ref, value: ref ? env(ref) : p.url };
  }
  if (account.proxy_url_env !== undefined) {
    return {
      segments: ["proxy_url_env"],
      env: account.proxy_url_env,
      value: env(account.proxy_url_env),
    };
  }
  if (account.proxy_url !== undefined) {
    const ref = envReferenceName(account.proxy_url);
    return { segments: ["proxy_url"], env: ref, value: ref ? env(ref) : account.proxy_url };
  }
  return undefined;
}

/** What is wrong with an upstream or local key, or `undefined`. Never echoes the key. */
function keyProblem(key: string, scheme: string | undefined): string | undefined {
  if (/[\r\n\0]/.test(key)) return "contains a line break or NUL character";
  const t = key.trim();
  if (t === "") return "is empty or only whitespace";
  const schemes = new Set(["bearer", ...(scheme ? [scheme.toLowerCase()] : [])]);
  const first = /^(\S+)\s+\S/.exec(t)?.[1]?.toLowerCase();
  if (first !== undefined && schemes.has(first)) {
    return `must be the raw token without a "${
      scheme ?? "Bearer"
    } " prefix; EggPool adds the scheme itself`;
  }
  if (isPlaceholderKey(t)) return "is a placeholder API key; set a real key";
  return undefined;
}

/**
 * Checks the local API key rules (01 §2) and every enabled account's upstream
 * key, proxy and header environment (02 §10). Returns every problem found.
 */
export function validateCredentials(loaded: LoadedConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const add = (segments: readonly PathSegment[], message: string) => {
    issues.push({ path: formatKeyPath(segments), message, line: loaded.lineOf(segments) });
  };
  checkServerKey(loaded, add);
  const reportedProxies = new Set<string>();
  for (const [id, provider] of Object.entries(loaded.config.providers)) {
    provider.accounts.forEach((account, index) => {
      if (!account.enabled) return;
      const at = loaded.legacyAccounts ? ["accounts", index] : ["providers", id, "accounts", index];
      if (provider.auth.mode !== "none") checkAccountKey(provider, account, at, loaded, add);
      const proxy = proxyFor(loaded, account);
      if (!proxy) return;
      const where = proxy.segments[0] === "proxies" ? proxy.segments : [...at, ...proxy.segments];
      const key = formatKeyPath(where);
      if (reportedProxies.has(key)) return;
      reportedProxies.add(key);
      const value = proxy.value?.trim();
      if (value === undefined || value === "") {
        add(where, `env var '${proxy.env}' is not set (needed by account '${account.name}')`);
        return;
      }
      const problem = proxyUrlProblem(value);
      if (problem) add(where, proxy.env ? `value of env var '${proxy.env}' ${problem}` : problem);
    });
    provider.headers.forEach((h, i) => {
      const at = ["providers", id, "headers", i];
      const v = headerValue(h, loaded.env);
      if (v.value === undefined) {
        add([...at, "value_env"], `env var '${v.env}' is not set`);
      } else if (/[\r\n\0]/.test(v.value)) {
        add(at, "header value contains a line break or NUL character");
      }
    });
  }
  return issues;
}

function checkAccountKey(
  provider: ResolvedProviderConfig,
  account: ResolvedAccountConfig,
  at: readonly PathSegment[],
  loaded: LoadedConfig,
  add: (segments: readonly PathSegment[], message: string) => void,
): void {
  const who = `Provider '${provider.id}' account '${account.name}'`;
  const source = keySource(account, loaded.env);
  if (source.kind === "none") {
    add([...at, "api_key"], `${who}: api_key is not set`);
    return;
  }
  const keyPath = [...at, source.kind === "env" ? source.via : "api_key"];
  if (source.kind === "env" && (source.value === undefined || source.value === "")) {
    add(keyPath, `${who}: env var '${source.name}' is not set`);
    return;
  }
  const value = source.kind === "env" ? source.value ?? "" : source.value;
  const scheme = provider.auth.mode === "bearer" ? provider.auth.scheme : undefined;
  const problem = keyProblem(value, scheme);
  if (problem) {
    const from = source.kind === "env" ? ` (from env var '${source.name}')` : "";
    add(keyPath, `${who}: key${from} ${problem}`);
  }
}

const LOOPBACK_HOSTS = new Set(["localhost", "::1", "[::1]", "0:0:0:0:0:0:0:1"]);

/** True for hosts that only accept connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  return LOOPBACK_HOSTS.has(h) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function checkServerKey(
  loaded: LoadedConfig,
  add: (segments: readonly PathSegment[], message: string) => void,
): void {
  const { host, api_key, api_key_env } = loaded.config.server;
  const inline = api_key !== undefined && api_key !== "";
  const ref = inline ? envReferenceName(api_key) : undefined;
  const source = serverKeySource(loaded);
  const at = ["server", inline ? "api_key" : "api_key_env"];
  const from = inline && !ref ? "" : ` (from env var '${ref ?? api_key_env}')`;
  const value = source.value;
  if (value === undefined || value === "") {
    if (!isLoopbackHost(host)) {
      add(
        ["server", "api_key"],
        `a server API key is required when binding to the non-loopback host "${host}"; ` +
          `set server.api_key or the ${api_key_env} environment variable`,
      );
    }
    return;
  }
  const problem = keyProblem(value, "Bearer");
  if (problem) {
    add(at, `server API key${from} ${problem}`);
  } else if (!SERVER_KEY_FORMAT.test(value)) {
    add(at, `server API key${from} must be 8 to 512 characters of letters, digits, '_' or '-'`);
  }
}

/** Throws a {@linkcode ConfigError} listing every credential problem, if any. */
export function assertCredentials(loaded: LoadedConfig): void {
  const issues = validateCredentials(loaded);
  if (issues.length > 0) throw new ConfigError(issues, loaded.path);
}
