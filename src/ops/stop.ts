/** `stop` (spec 07 §2): SIGTERM the server named by the PID file and wait for it to go. */
import type { PathEnv } from "../config/paths.ts";
import { pidFileCandidates } from "../config/paths.ts";
import { DISK_PROBE } from "./env.ts";
import { findServer, isServerProcess, removePidFileIfOwned } from "./pid_file.ts";

const STOP_POLL_MS = 100;

/** What {@linkcode stopServer} found and did. */
export type StopResult =
  | { kind: "no_pid_file" }
  | { kind: "stale"; pidFile: string; pid?: number }
  | { kind: "stopped"; pid: number; pidFile: string }
  | { kind: "timeout"; pid: number; pidFile: string }
  | { kind: "signal_failed"; pid: number; message: string };

/** Sends SIGTERM and polls every 100 ms for up to `timeoutMs`. */
export async function stopServer(env: PathEnv, timeoutMs: number): Promise<StopResult> {
  const state = findServer(pidFileCandidates(env, DISK_PROBE));
  if (!state.running) {
    if (state.stalePid === undefined && !exists(state.pidFile)) return { kind: "no_pid_file" };
    try {
      Deno.removeSync(state.pidFile);
    } catch {
      // Already gone.
    }
    return { kind: "stale", pidFile: state.pidFile, pid: state.stalePid };
  }
  const { pid, pidFile } = state;
  try {
    Deno.kill(pid, "SIGTERM");
  } catch (error) {
    return {
      kind: "signal_failed",
      pid,
      message: error instanceof Error ? error.message : String(error),
    };
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isServerProcess(pid)) {
      removePidFileIfOwned(pidFile, pid);
      return { kind: "stopped", pid, pidFile };
    }
    await new Promise((r) => setTimeout(r, STOP_POLL_MS));
  }
  return { kind: "timeout", pid, pidFile };
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
