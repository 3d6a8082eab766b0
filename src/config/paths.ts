/**
 * Where EggPool keeps its files (spec 02 §13). Pure: every function takes the
 * environment and home directory it should use, so tests and the CLI agree.
 */

/** The environment view path resolution needs. */
export interface PathEnv {
  get(name: string): string | undefined;
  home: string;
  cwd: string;
  uid: number;
}

/** Which source decided the config path; shown by `eggpool help`. */
export type ConfigSource = "flag" | "env" | "xdg" | "cwd";

/** Options for {@linkcode resolveConfigPath}. */
export interface ResolveConfigOptions {
  /** Value of `--config`, when given. */
  flag?: string;
  /** Whether a file exists; only the XDG location needs the answer. */
  exists(path: string): boolean;
}

/** Joins path parts with `/`, keeping an absolute first part absolute. */
export function joinPath(...parts: string[]): string {
  const joined = parts.filter((p) => p !== "").join("/");
  return joined.replace(/\/{2,}/g, "/");
}

/** Makes `path` absolute against `cwd` and removes `.` and `..` segments. */
export function absolutePath(path: string, cwd: string): string {
  const raw = path.startsWith("/") ? path : `${cwd}/${path}`;
  const out: string[] = [];
  for (const seg of raw.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return "/" + out.join("/");
}

/** Returns the folder part of an absolute path. */
export function dirName(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

function nonEmpty(env: PathEnv, name: string): string | undefined {
  const v = env.get(name);
  return v === undefined || v.trim() === "" ? undefined : v;
}

/** `$XDG_CONFIG_HOME/eggpool`, else `~/.config/eggpool`. */
export function configDir(env: PathEnv): string {
  const base = nonEmpty(env, "XDG_CONFIG_HOME") ??
    joinPath(env.home, ".config");
  return joinPath(base, "eggpool");
}

/** `$XDG_DATA_HOME/eggpool`, else `~/.local/share/eggpool`. */
export function dataDir(env: PathEnv): string {
  const base = nonEmpty(env, "XDG_DATA_HOME") ??
    joinPath(env.home, ".local/share");
  return joinPath(base, "eggpool");
}

/** `$EGGPOOL_STATE_DIR`, else `$XDG_STATE_HOME/eggpool`, else `~/.local/state/eggpool`. */
export function stateDir(env: PathEnv): string {
  const own = nonEmpty(env, "EGGPOOL_STATE_DIR");
  if (own) return own;
  const base = nonEmpty(env, "XDG_STATE_HOME") ??
    joinPath(env.home, ".local/state");
  return joinPath(base, "eggpool");
}

/** The default database file when the config names none. */
export function defaultDatabasePath(env: PathEnv): string {
  return joinPath(dataDir(env), "usage.sqlite3");
}

/**
 * Resolves the config file: `--config` > `$EGGPOOL_CONFIG` > the XDG file when
 * it exists > `./config.toml`. The result is absolute.
 */
export function resolveConfigPath(
  env: PathEnv,
  options: ResolveConfigOptions,
): { path: string; source: ConfigSource } {
  if (options.flag !== undefined && options.flag !== "") {
    return { path: absolutePath(options.flag, env.cwd), source: "flag" };
  }
  const fromEnv = nonEmpty(env, "EGGPOOL_CONFIG");
  if (fromEnv) return { path: absolutePath(fromEnv, env.cwd), source: "env" };
  const xdg = joinPath(configDir(env), "config.toml");
  if (options.exists(xdg)) {
    return { path: absolutePath(xdg, env.cwd), source: "xdg" };
  }
  return { path: absolutePath("config.toml", env.cwd), source: "cwd" };
}
