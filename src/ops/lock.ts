/**
 * An exclusive advisory lock (flock) on a small file beside the PID file.
 * The kernel drops it when the holder exits, so a crashed starter never
 * leaves a stale lock behind; the PID inside is only for people reading it.
 */
import { dirName } from "../config/paths.ts";

/** How often a waiting starter retries; short next to a server's start time. */
const LOCK_POLL_MS = 20;

/** A held lock; release it with `using` or {@linkcode StartLock.release}. */
export interface StartLock extends Disposable {
  readonly path: string;
  release(): void;
}

/** The lock was still held by another process after the wait. */
export class LockTimeoutError extends Error {
  constructor(path: string, waitedMs: number) {
    super(`Cannot take the start lock "${path}": still held after ${waitedMs} ms`);
    this.name = "LockTimeoutError";
  }
}

/** Takes the lock at `path`, waiting up to `timeoutMs` for another holder to finish. */
export async function acquireStartLock(path: string, timeoutMs: number): Promise<StartLock> {
  Deno.mkdirSync(dirName(path), { recursive: true, mode: 0o700 });
  const file = Deno.openSync(path, { read: true, write: true, create: true, mode: 0o600 });
  const deadline = Date.now() + timeoutMs;
  try {
    while (!file.tryLockSync(true)) {
      if (Date.now() >= deadline) throw new LockTimeoutError(path, timeoutMs);
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
    file.truncateSync(0);
    file.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
  } catch (error) {
    file.close();
    throw error;
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    try {
      file.unlockSync();
    } finally {
      file.close();
    }
  };
  return { path, release, [Symbol.dispose]: release };
}
