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

/** Options for the path functions that must look at the disk. */
export interface PathProbe {
  /** True when `path` is an existing directory, or could be created as one. */
  ensureDir(path: string): boolean;
}

/**
 * `$EGGPOOL_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR/eggpool`, else
 * `/tmp/eggpool-<uid>.runtime`.
 */
export function runtimeDir(env: PathEnv): string {
  const own = nonEmpty(env, "EGGPOOL_RUNTIME_DIR");
  if (own) return own;
  const xdg = nonEmpty(env, "XDG_RUNTIME_DIR");
  return xdg ? joinPath(xdg, "eggpool") : `/tmp/eggpool-${env.uid}.runtime`;
}

/**
 * The PID file a server writes (spec 02 §13): `$EGGPOOL_PID_FILE` >
 * `$XDG_RUNTIME_DIR/eggpool.pid` (directly in the runtime dir) > the state
 * dir's `eggpool.pid` when that dir exists or can be made > `/tmp/eggpool-<uid>.pid`.
 */
export function pidFilePath(env: PathEnv, probe: PathProbe): string {
  const own = nonEmpty(env, "EGGPOOL_PID_FILE");
  if (own) return absolutePath(own, env.cwd);
  const xdg = nonEmpty(env, "XDG_RUNTIME_DIR");
  if (xdg) return joinPath(xdg, "eggpool.pid");
  const state = stateDir(env);
  if (probe.ensureDir(state)) return joinPath(state, "eggpool.pid");
  return `/tmp/eggpool-${env.uid}.pid`;
}

/**
 * Every place a server of this user may have written its PID file, the
 * preferred one first. A shell started from SSH has `$XDG_RUNTIME_DIR` and
 * cron has not, so readers (croncheck, stop) look in all of them; an explicit
 * `$EGGPOOL_PID_FILE` is the only candidate.
 */
export function pidFileCandidates(env: PathEnv, probe: PathProbe): string[] {
  const first = pidFilePath(env, probe);
  if (nonEmpty(env, "EGGPOOL_PID_FILE")) return [first];
  const all = [
    first,
    `/run/user/${env.uid}/eggpool.pid`,
    joinPath(stateDir(env), "eggpool.pid"),
    `/tmp/eggpool-${env.uid}.pid`,
  ];
  return [...new Set(all)];
}

/** The lock file that serialises starting a server; it sits beside the PID file. */
export function lockFilePath(pidFile: string): string {
  return `${pidFile}.lock`;
}

/**
 * The daemon's log file: `--log-file` > `$EGGPOOL_LOG_FILE` > the state
 * dir's `eggpool.log` when the dir exists or can be made > `/tmp/eggpool-<uid>.log`.
 */
export function logFilePath(env: PathEnv, probe: PathProbe, flag?: string): string {
  if (flag !== undefined && flag !== "") return absolutePath(flag, env.cwd);
  const own = nonEmpty(env, "EGGPOOL_LOG_FILE");
  if (own) return absolutePath(own, env.cwd);
  const state = stateDir(env);
  if (probe.ensureDir(state)) return joinPath(state, "eggpool.log");
  return `/tmp/eggpool-${env.uid}.log`;
}

/** Where the cron watchdog appends its output: `<state dir>/cron.log`. */
export function cronLogPath(env: PathEnv): string {
  return joinPath(stateDir(env), "cron.log");
}

/**
 * `$XDG_BACKUP_HOME/eggpool` > `/var/lib/eggpool/backups` when
 * `/var/lib/eggpool` is a folder > `~/backups/eggpool`.
 */
export function backupDir(env: PathEnv, isDir: (path: string) => boolean): string {
  const xdg = nonEmpty(env, "XDG_BACKUP_HOME");
  if (xdg) return joinPath(xdg, "eggpool");
  if (isDir("/var/lib/eggpool")) return "/var/lib/eggpool/backups";
  return joinPath(env.home, "backups/eggpool");
}

/** `.env` for deploy and backup: `$EGGPOOL_ENV` when it exists > beside the config > the XDG config dir. */
export function envFileCandidates(env: PathEnv, configPath: string): string[] {
  const own = nonEmpty(env, "EGGPOOL_ENV");
  const list = [
    ...(own ? [absolutePath(own, env.cwd)] : []),
    joinPath(dirName(configPath), ".env"),
    joinPath(configDir(env), ".env"),
  ];
  return [...new Set(list)];
}
