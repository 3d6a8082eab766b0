/**
 * Reads `config.toml` into a {@linkcode LoadedConfig}: bytes → digest → UTF-8
 * → TOML → schema → environment references. Every problem found is thrown at
 * once as a {@linkcode ConfigError} whose issues carry key paths and lines.
 */

import { parse, TomlError } from "smol-toml";
import { ConfigError, type ConfigIssue } from "../core/errors.ts";
import { parseDotEnv } from "./_dotenv.ts";
import { formatKeyPath, type KeyedIssue, type PathSegment, valueAt } from "./_key_path.ts";
import { buildLineLocator } from "./_locate.ts";
import { absolutePath, defaultDatabasePath, dirName, joinPath } from "./paths.ts";
import { resolveConfig } from "./schema.ts";
import { envReferenceName } from "./schema_fields.ts";
import type { EnvLookup, LoadedConfig } from "./types.ts";

export type { EnvLookup, LoadedConfig } from "./types.ts";
export {
  assertCredentials,
  describeKeySource,
  describeServerKeySource,
  isLoopbackHost,
  isPlaceholderKey,
  resolveAccountKey,
  resolveAccountProxyUrl,
  resolveProviderHeaders,
  resolveServerApiKey,
  validateCredentials,
} from "./credentials.ts";

/** Options for {@linkcode loadConfig}. */
export interface LoadConfigOptions {
  /** The real environment; defaults to `Deno.env.get`. It wins over `.env`. */
  env?: EnvLookup;
}

/** Loads and validates the config file at `path` (absolute or relative to the CWD). */
export async function loadConfig(
  file: string,
  options: LoadConfigOptions = {},
): Promise<LoadedConfig> {
  const path = absolutePath(file, Deno.cwd());
  const bytes = await readConfigBytes(path);
  const digest = await sha256Hex(bytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw fileError(path, "the file is not valid UTF-8 text");
  }
  const raw = parseToml(text, path);
  const lineOf = buildLineLocator(text);
  const placed = (i: KeyedIssue): ConfigIssue => ({
    path: formatKeyPath(i.segments),
    message: i.message,
    line: lineOf(i.segments),
  });

  const realEnv: EnvLookup = options.env ?? ((name) => Deno.env.get(name));
  const dotenv = await readDotEnv(joinPath(dirName(path), ".env"));
  const env: EnvLookup = (name) => realEnv(name) ?? dotenv?.vars.get(name);
  const dbDefault = defaultDatabasePath({
    get: env,
    home: env("HOME") ?? "/",
    cwd: Deno.cwd(),
    uid: Deno.uid() ?? 0,
  });

  const result = resolveConfig(raw, { defaultDatabasePath: dbDefault });
  const errors = result.ok ? [] : result.errors;
  errors.push(...missingEnvReferences(raw, env));
  const warnings = result.warnings.map(placed);
  if (dotenv && dotenv.badLines.length > 0) {
    warnings.push({
      path: "",
      message: `${dotenv.path}: ignored line(s) ${dotenv.badLines.join(", ")} (not KEY=VALUE)`,
    });
  }
  if (!result.ok || errors.length > 0) {
    throw new ConfigError(byLine(errors.map(placed)), path);
  }
  return {
    config: result.config,
    path,
    digest,
    warnings: byLine(warnings),
    envFile: dotenv?.path,
    env,
    lineOf,
    legacyAccounts: result.legacyAccounts,
  };
}

/** Orders issues as they appear in the file; issues without a line keep their order at the end. */
function byLine(issues: ConfigIssue[]): ConfigIssue[] {
  return issues
    .map((issue, i) => ({ issue, i }))
    .sort((a, b) => (a.issue.line ?? Infinity) - (b.issue.line ?? Infinity) || a.i - b.i)
    .map((x) => x.issue);
}

function fileError(path: string, message: string): ConfigError {
  return new ConfigError([{ path: "", message }], path);
}

async function readConfigBytes(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw fileError(path, "the file does not exist; create one with 'eggpool init-config'");
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw fileError(path, "the file cannot be read: permission denied");
    }
    if (error instanceof Deno.errors.IsADirectory) {
      throw fileError(path, "the path is a directory, not a config file");
    }
    const name = error instanceof Error ? error.name : "unknown error";
    throw fileError(path, `the file cannot be read (${name})`);
  }
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

function parseToml(text: string, path: string): unknown {
  try {
    return parse(text);
  } catch (error) {
    if (error instanceof TomlError) {
      // Only the first line of smol-toml's message: the rest quotes the file,
      // which may contain a key.
      const what = error.message.split("\n")[0].replace(/^Invalid TOML document:\s*/, "");
      throw new ConfigError([{
        path: "",
        line: error.line,
        message: unterminatedString(text, error.line, error.column, what) ??
          `TOML syntax error at line ${error.line}, column ${error.column}: ${what}`,
      }], path);
    }
    throw error;
  }
}

/**
 * smol-toml reports a string left open as "control characters are not
 * allowed" (it reaches the line's newline inside the string) or "unfinished
 * string" (a multi-line string reaches the end of the file); both hide the
 * real mistake, a missing closing quote.
 */
function unterminatedString(
  text: string,
  line: number,
  column: number,
  what: string,
): string | undefined {
  if (/unfinished string/i.test(what)) {
    return `unterminated string at line ${line}: a multi-line string opened here is never closed`;
  }
  if (!/control characters are not allowed in strings/i.test(what)) return undefined;
  const at = text.split("\n")[line - 1]?.[column - 1];
  if (at !== undefined && at !== "\r") return undefined;
  return `unterminated string at line ${line}: add the closing quote before the end of the line`;
}

async function readDotEnv(
  path: string,
): Promise<{ path: string; vars: Map<string, string>; badLines: number[] } | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
  return { path, ...parseDotEnv(text) };
}

/** Every `${NAME}` value whose variable is not set, named by key path and variable. */
function missingEnvReferences(raw: unknown, env: EnvLookup): KeyedIssue[] {
  const out: KeyedIssue[] = [];
  const check = (segments: PathSegment[]) => {
    const value = valueAt(raw, segments);
    if (typeof value !== "string") return;
    const name = envReferenceName(value);
    if (name !== undefined && (env(name) ?? "") === "") {
      out.push({ segments, message: `refers to env var '${name}', which is not set` });
    }
  };
  const accounts = (at: PathSegment[]) => {
    const list = valueAt(raw, at);
    if (!Array.isArray(list)) return;
    list.forEach((_, i) => {
      check([...at, i, "api_key"]);
      check([...at, i, "proxy_url"]);
    });
  };
  check(["server", "api_key"]);
  accounts(["accounts"]);
  for (const id of keysOf(valueAt(raw, ["providers"]))) {
    accounts(["providers", id, "accounts"]);
    const headers = valueAt(raw, ["providers", id, "headers"]);
    if (Array.isArray(headers)) {
      headers.forEach((_, i) => check(["providers", id, "headers", i, "value"]));
    }
  }
  for (const name of keysOf(valueAt(raw, ["proxies"]))) check(["proxies", name, "url"]);
  for (const name of keysOf(valueAt(raw, ["pricing", "catalogs"]))) {
    check(["pricing", "catalogs", name, "api_key"]);
  }
  return out;
}

function keysOf(value: unknown): string[] {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? Object.keys(value)
    : [];
}
