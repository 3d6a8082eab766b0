/**
 * The single-instance guard of `serve` (spec 07 §2): refuse when a PID file
 * names a live server or when something already answers `/v1/healthz` on
 * our address; otherwise clear stale PID files and claim ours.
 */
import type { PathEnv } from "../config/paths.ts";
import { lockFilePath, pidFileCandidates } from "../config/paths.ts";
import { CliError } from "../core/errors.ts";
import { CONTAINER_ROOT_NOTICE, DISK_PROBE, inContainer } from "./env.ts";
import { isHealthy, serverOrigin } from "./health.ts";
import { acquireStartLock } from "./lock.ts";
import { clearStalePidFiles, findServer, removePidFileIfOwned, writePidFile } from "./pid_file.ts";
import { START_LOCK_TIMEOUT_MS } from "./start.ts";

/** The address a server is about to bind. */
export interface BindAddress {
  host: string;
  port: number;
}

/** A claimed PID file; {@linkcode PidClaim.release} removes it if it still names us. */
export interface PidClaim {
  pidFile: string;
  staleCleared: string[];
  release(): void;
}

/** Throws a {@linkcode CliError} when another server runs (by PID file or by port). */
export async function assertNoOtherServer(
  env: PathEnv,
  bind: BindAddress,
  selfPid?: number,
): Promise<void> {
  const state = findServer(pidFileCandidates(env, DISK_PROBE));
  if (state.running && state.pid !== selfPid) {
    throw new CliError(
      `server is already running (PID ${state.pid}, PID file ${state.pidFile}); ` +
        "use 'eggpool stop' or 'eggpool restart'",
    );
  }
  if (await isHealthy(serverOrigin(bind.host, bind.port))) {
    throw new CliError(
      `another process is already serving ${bind.host}:${bind.port} (GET /v1/healthz answered 200)`,
    );
  }
}

/**
 * Runs the guard under the start lock and writes this process's PID. A
 * starter that spawned us has already written our PID; that is not a rival.
 */
export async function claimPidFile(env: PathEnv, bind: BindAddress): Promise<PidClaim> {
  const candidates = pidFileCandidates(env, DISK_PROBE);
  const pidFile = candidates[0];
  using _lock = await acquireStartLock(lockFilePath(pidFile), START_LOCK_TIMEOUT_MS);
  await assertNoOtherServer(env, bind, Deno.pid);
  const staleCleared = clearStalePidFiles(candidates);
  writePidFile(pidFile, Deno.pid);
  return {
    pidFile,
    staleCleared,
    release: () => void removePidFileIfOwned(pidFile, Deno.pid),
  };
}

/**
 * Refuses euid 0 unless `--as-root` was given (spec 07 §2), except inside a
 * container (09-decisions). Returns the one-line notice to print when root is
 * allowed because of the container.
 */
export function assertNotRoot(
  uid: number,
  asRoot: boolean | undefined,
  container = false,
): string | undefined {
  if (uid !== 0 || asRoot === true) return undefined;
  if (container) return CONTAINER_ROOT_NOTICE;
  throw new CliError(
    "refusing to run as root for personal deployment; run as a normal user, " +
      "or pass --as-root if you really mean it",
  );
}

/** {@linkcode assertNotRoot} for a CLI command: prints the container notice on stderr. */
export function checkRoot(
  ctx: { env: PathEnv; io: { err(text: string): void } },
  asRoot: boolean | undefined,
): void {
  const notice = assertNotRoot(ctx.env.uid, asRoot, ctx.env.uid === 0 && inContainer(ctx.env));
  if (notice !== undefined) ctx.io.err(`${notice}\n`);
}
