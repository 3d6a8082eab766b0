/**
 * PID-file logic shared by serve, stop and the fast path. "Running" means
 * the file parses and `kill(pid, 0)` succeeds (spec 07 §1); EPERM counts as
 * not running. On Linux a PID that now belongs to an unrelated process (PID
 * reuse after a reboot) or to a zombie also counts as not running.
 */
import { dirName } from "../config/paths.ts";

/** What the PID files say about the server. */
export type ServerState =
  | { running: true; pid: number; pidFile: string }
  | { running: false; pidFile: string; stalePid?: number };

/** Reads a PID file: the PID, `undefined` when missing, `NaN` when it does not parse. */
export function readPidFile(path: string): number | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
  const t = text.trim();
  return /^[1-9][0-9]{0,9}$/.test(t) ? Number(t) : NaN;
}

function readProc(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/**
 * True when `pid` is alive, may be signalled by us and, where /proc can tell,
 * is not a zombie and was started with a `serve` argument.
 */
export function isServerProcess(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    // Signal 0 only checks existence and permission; Deno accepts it though its type does not.
    Deno.kill(pid, 0 as unknown as Deno.Signal);
  } catch {
    return false;
  }
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat !== undefined) {
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (state === "Z" || state === "X") return false;
  }
  const cmdline = readProc(`/proc/${pid}/cmdline`);
  if (cmdline !== undefined && cmdline !== "") {
    return cmdline.split("\0").includes("serve");
  }
  return true;
}

/**
 * Looks through `candidates` (preferred first) for a live server. When none
 * is live, `pidFile` is the first file that exists (with its dead PID) or
 * the preferred path.
 */
export function findServer(candidates: readonly string[]): ServerState {
  let stale: { pidFile: string; stalePid?: number } | undefined;
  for (const path of candidates) {
    const pid = readPidFile(path);
    if (pid === undefined) continue;
    if (isServerProcess(pid)) return { running: true, pid, pidFile: path };
    stale ??= { pidFile: path, stalePid: Number.isNaN(pid) ? undefined : pid };
  }
  return { running: false, ...(stale ?? { pidFile: candidates[0] }) };
}

/** Removes every candidate PID file whose process is gone; returns the paths removed. */
export function clearStalePidFiles(candidates: readonly string[]): string[] {
  const removed: string[] = [];
  for (const path of candidates) {
    const pid = readPidFile(path);
    if (pid === undefined || isServerProcess(pid)) continue;
    try {
      Deno.removeSync(path);
      removed.push(path);
    } catch {
      // Someone else removed it first, or we may not: either way it is not ours to fix.
    }
  }
  return removed;
}

/** Writes `pid` atomically (temp file + rename), creating the folder when needed. */
export function writePidFile(path: string, pid: number): void {
  Deno.mkdirSync(dirName(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${Deno.pid}.tmp`;
  Deno.writeTextFileSync(tmp, `${pid}\n`, { mode: 0o644 });
  Deno.renameSync(tmp, path);
}

/** Removes the PID file only while it still names `pid` (a newer server may own it now). */
export function removePidFileIfOwned(path: string, pid: number): boolean {
  if (readPidFile(path) !== pid) return false;
  try {
    Deno.removeSync(path);
    return true;
  } catch {
    return false;
  }
}
