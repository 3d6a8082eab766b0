/**
 * Starting a background server under the start lock: the shared core of
 * `ensure-running`, `serve --daemon`, `restart` and `rehash`. Light on
 * purpose (no config, database or HTTP code) because the cron fast path uses it.
 */
import type { PathEnv } from "../config/paths.ts";
import { lockFilePath, logFilePath, pidFileCandidates } from "../config/paths.ts";
import { DISK_PROBE } from "./env.ts";
import { acquireStartLock } from "./lock.ts";
import { launcherArgv, spawnDetached } from "./launcher.ts";
import { clearStalePidFiles, findServer, writePidFile } from "./pid_file.ts";

/**
 * How long a starter waits for another starter's lock. Holders only spawn a
 * process and write a file, so this is generous; it bounds a wedged disk.
 */
export const START_LOCK_TIMEOUT_MS = 10_000;

/** Options for {@linkcode startDetachedServer}. */
export interface StartOptions {
  env: PathEnv;
  /** Absolute config path the child is started with. */
  configPath: string;
  /** Forward `--as-root` to the child. */
  asRoot: boolean;
  /** `--log-file`; default `$EGGPOOL_LOG_FILE` or the state dir's log. */
  logFile?: string;
  /** Discard the child's output (only when no log file was given). */
  quiet?: boolean;
  /** Runs under the lock before spawning (the daemon's port check); throw to refuse. */
  beforeSpawn?(): Promise<void>;
}

/** What a start attempt did. */
export type StartResult =
  | { kind: "already_running"; pid: number; pidFile: string }
  | {
    kind: "started";
    pid: number;
    pidFile: string;
    logFile: string;
    status: Promise<Deno.CommandStatus>;
  };

/** The log file a started server appends to, after `--log-file`, `--quiet` and the defaults. */
export function daemonLogFile(
  env: PathEnv,
  options: { logFile?: string; quiet?: boolean },
): string {
  if (options.quiet && (options.logFile === undefined || options.logFile === "")) {
    return "/dev/null";
  }
  return logFilePath(env, DISK_PROBE, options.logFile);
}

/**
 * Starts `<this program> --config <cfg> serve` detached unless a server is
 * already running. The PID file is written with the child's PID before the
 * lock is released, so a racing starter sees the new server at once.
 */
export async function startDetachedServer(options: StartOptions): Promise<StartResult> {
  const candidates = pidFileCandidates(options.env, DISK_PROBE);
  const pidFile = candidates[0];
  using _lock = await acquireStartLock(lockFilePath(pidFile), START_LOCK_TIMEOUT_MS);
  const state = findServer(candidates);
  if (state.running) return { kind: "already_running", pid: state.pid, pidFile: state.pidFile };
  clearStalePidFiles(candidates);
  await options.beforeSpawn?.();
  const logFile = daemonLogFile(options.env, options);
  const argv = [...launcherArgv(), "--config", options.configPath, "serve"];
  if (options.asRoot) argv.push("--as-root");
  const child = spawnDetached(argv, { logFile });
  writePidFile(pidFile, child.pid);
  return { kind: "started", pid: child.pid, pidFile, logFile, status: child.status };
}
