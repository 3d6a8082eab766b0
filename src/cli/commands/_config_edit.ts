/**
 * How the config-changing commands (connect, logout, set, newkey, dashboard
 * public, onboard) commit a change: the new config text and `.env` values are
 * validated as a whole first (an invalid result changes nothing and says
 * why), then written atomically (temp file + rename, the old file's mode),
 * then a running server is restarted to pick them up, as `rehash` does.
 */
import { Command } from "commander";
import { CliError, ConfigError, type ConfigIssue } from "../../core/errors.ts";
import { loadConfig, type LoadedConfig, validateCredentials } from "../../config/load.ts";
import { dirName, joinPath, pidFileCandidates } from "../../config/paths.ts";
import { TomlEditError } from "../../config/toml_edit.ts";
import { parseDotEnv } from "../../config/_dotenv.ts";
import { DISK_PROBE } from "../../ops/env.ts";
import { findServer } from "../../ops/pid_file.ts";
import type { CliContext } from "../context.ts";
import { loadValidConfig } from "./_lifecycle.ts";
import { type RestartFlags, restartWith } from "./restart.ts";
import { DEFAULT_STOP_TIMEOUT_S } from "./stop.ts";

/** Flags every config-changing command accepts. */
export interface ApplyFlags {
  /** `--no-restart`: write the change and leave a running server alone. */
  restart?: boolean;
  asRoot?: boolean;
}

/** Adds `--no-restart` and `--as-root` to a config-changing command. */
export function withApplyFlags(cmd: Command): Command {
  return cmd
    .option("--no-restart", "write the change but leave a running server as it is")
    .option("--as-root", "allow restarting the server as root");
}

/** The config file's text; a missing file is one actionable line. */
export async function readConfigText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CliError(
        `no config at ${path}; create one with 'eggpool onboard' or 'eggpool init-config --minimal'`,
      );
    }
    throw new CliError(`cannot read ${path}: ${error instanceof Error ? error.message : error}`);
  }
}

/** The `.env` beside the config. */
export function envFileOf(configPath: string): string {
  return joinPath(dirName(configPath), ".env");
}

/** The `.env` text beside the config, or `""` when there is none. */
export async function readEnvText(configPath: string): Promise<string> {
  try {
    return await Deno.readTextFile(envFileOf(configPath));
  } catch {
    return "";
  }
}

/** Variables of `.env` text. */
export function envVars(text: string): Map<string, string> {
  return parseDotEnv(text).vars;
}

/**
 * `.env` text with `name` set to `value` (its line rewritten in place, or a
 * line appended), or removed when `value` is `undefined`.
 */
export function editEnvText(text: string, name: string, value: string | undefined): string {
  const line = new RegExp(`^\\s*(?:export\\s+)?${name}\\s*=`);
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const at = lines.findIndex((l) => line.test(l));
  if (value !== undefined && /[\r\n]/.test(value)) {
    throw new CliError(`the value for ${name} contains a line break`);
  }
  if (value === undefined) {
    if (at >= 0) lines.splice(at, 1);
  } else if (at >= 0) lines[at] = `${name}=${value}`;
  else lines.push(`${name}=${value}`);
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/**
 * Writes `text` to `path` through a temp file and a rename; keeps the old
 * file's mode (a new file gets `mode`), or always uses `mode` with `force`.
 */
export async function writeAtomic(
  path: string,
  text: string,
  mode = 0o600,
  force = false,
): Promise<void> {
  let keep = mode;
  try {
    if (!force) keep = (await Deno.stat(path)).mode! & 0o777;
  } catch {
    // A new file.
  }
  const tmp = `${dirName(path)}/.${
    path.slice(dirName(path).length + 1)
  }.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeTextFile(tmp, text, { mode: keep, createNew: true });
    await Deno.chmod(tmp, keep);
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw new CliError(`cannot write ${path}: ${error instanceof Error ? error.message : error}`);
  }
}

/** A change to commit: the whole new config text and the `.env` variables to set or remove. */
export interface ConfigChange {
  text: string;
  env?: ReadonlyMap<string, string | undefined>;
}

/**
 * Validates `change` as the config it would make (schema and credentials,
 * with the new `.env` values), then `check` (connect's key verification),
 * and only then writes `.env` and the config. A problem the file already had
 * before does not block an unrelated change (it is printed as a warning);
 * any new one refuses the change. Returns the loaded new config.
 */
export async function commitChange(
  ctx: CliContext,
  change: ConfigChange,
  check?: (loaded: LoadedConfig) => Promise<void>,
): Promise<LoadedConfig> {
  const path = ctx.configPath().path;
  const pending = change.env ?? new Map<string, string | undefined>();
  const tmp = `${dirName(path)}/.config-check.${crypto.randomUUID()}.toml`;
  let result: Checked;
  try {
    try {
      await Deno.writeTextFile(tmp, change.text, { mode: 0o600 });
    } catch (error) {
      const why = error instanceof Deno.errors.PermissionDenied
        ? "permission denied"
        : String(error);
      throw new CliError(`cannot write in ${dirName(path)} (${why}); nothing was changed`);
    }
    result = await checkFile(
      tmp,
      (n) => ctx.env.get(n) ?? (pending.has(n) ? pending.get(n) ?? "" : undefined),
    );
    if (result.issues.length > 0) {
      const before = await checkFile(path, (n) => ctx.env.get(n));
      const old = new Set(before.issues.map((i) => i.message));
      const fresh = result.issues.filter((i) => !old.has(i.message));
      if (fresh.length > 0 || result.loaded === undefined) {
        throw refused(path, fresh.length > 0 ? fresh : result.issues);
      }
      for (const i of result.issues) {
        ctx.io.err(`warning: the config already had this problem: ${describe(i)}\n`);
      }
    }
    await check?.(result.loaded!);
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
  if (pending.size > 0) {
    let envText = await readEnvText(path);
    for (const [name, value] of pending) envText = editEnvText(envText, name, value);
    await writeAtomic(envFileOf(path), envText, 0o600);
    await Deno.chmod(envFileOf(path), 0o600);
  }
  const current = await Deno.readTextFile(path).catch(() => undefined);
  if (current !== change.text) await writeAtomic(path, change.text);
  return { ...result.loaded!, path };
}

/** A config file checked: the loaded config when the schema passed, and every problem. */
export interface Checked {
  loaded?: LoadedConfig;
  issues: readonly ConfigIssue[];
}

/** Every problem of the config at `path`: schema first, then credentials. */
export async function checkFile(
  path: string,
  env: (name: string) => string | undefined,
): Promise<Checked> {
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig(path, { env });
  } catch (error) {
    if (error instanceof ConfigError) return { issues: error.issues };
    throw error;
  }
  return { loaded, issues: validateCredentials(loaded) };
}

/** One problem on one line: key path (and line), then the message. */
export function describe(i: ConfigIssue): string {
  const at = i.line === undefined ? "" : `line ${i.line}`;
  const where = [i.path, at].filter((x) => x !== "").join(", ");
  return where === "" ? i.message : `${where}: ${i.message}`;
}

function refused(path: string, issues: readonly ConfigIssue[]): CliError {
  const lines = issues.map((i) => `  - ${describe(i)}`);
  return new CliError(
    [`the change would make the config invalid, so nothing was written to ${path}:`, ...lines]
      .join("\n"),
  );
}

/** Turns an in-place edit failure into one CLI line. */
export function editFailed(error: unknown): never {
  if (error instanceof TomlEditError) throw new CliError(error.message);
  throw error;
}

/**
 * Applies a written change to a running server, as `rehash` does: validate,
 * then restart. Says so when no server runs.
 */
export async function applyToServer(ctx: CliContext, flags: ApplyFlags): Promise<void> {
  const state = findServer(pidFileCandidates(ctx.env, DISK_PROBE));
  if (!state.running) {
    ctx.io.out("Server is not running; the change applies when it starts.\n");
    return;
  }
  if (flags.restart === false) {
    ctx.io.out(
      `Server is running (PID ${state.pid}); run 'eggpool rehash' to apply the change.\n`,
    );
    return;
  }
  let loaded: LoadedConfig;
  try {
    loaded = await loadValidConfig(ctx);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new CliError(
      `the change was written, but the running server keeps its old config until these are ` +
        `fixed (then run 'eggpool rehash'):\n${
          error.issues.map((i) => `  - ${describe(i)}`).join("\n")
        }`,
    );
  }
  const restart: RestartFlags = { timeout: DEFAULT_STOP_TIMEOUT_S, asRoot: flags.asRoot };
  await restartWith(ctx, loaded, restart);
  ctx.io.out("Server restarted.\n");
}
