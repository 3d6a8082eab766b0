/**
 * Waiting for a just-started background server to answer `/v1/healthz`.
 * Shared by `serve --daemon` and `ensure-running`, so neither reports a
 * start that in fact died a moment later; kept free of the schema and the
 * CLI because `ensure-running` runs from cron on the fast path.
 */
import { isHealthy } from "./health.ts";
import { tailLines } from "./log_tail.ts";
import { removePidFileIfOwned } from "./pid_file.ts";

const READY_POLL_MS = 100;
const LOG_TAIL_LINES = 20;

/** The parts of a start result the wait needs. */
export interface StartedChild {
  pid: number;
  pidFile: string;
  logFile: string;
  status: Promise<Deno.CommandStatus>;
}

/**
 * Polls `<origin>/v1/healthz` until it answers, the child exits or
 * `timeoutMs` passes. Returns undefined when healthy, else the reason with
 * the tail of the child's log. A child that exited loses its PID file.
 */
export async function awaitHealthy(
  child: StartedChild,
  origin: string,
  timeoutMs: number,
): Promise<string | undefined> {
  let exited: Deno.CommandStatus | undefined;
  child.status.then((s) => (exited = s), () => {});
  const deadline = Date.now() + timeoutMs;
  while (exited === undefined && Date.now() < deadline) {
    if (await isHealthy(origin, 1000)) return undefined;
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
  }
  const tail = describeTail(child.logFile);
  if (exited !== undefined) {
    removePidFileIfOwned(child.pidFile, child.pid);
    const how = exited.signal ? `signal ${exited.signal}` : `code ${exited.code}`;
    return `the server exited with ${how} before it answered ${origin}/v1/healthz\n${tail}`;
  }
  return `the server (PID ${child.pid}) did not answer ${origin}/v1/healthz within ` +
    `${Math.round(timeoutMs / 1000)} s; it may still be starting\n${tail}`;
}

function describeTail(logFile: string): string {
  if (logFile === "/dev/null") {
    return "Its output was discarded (--quiet); run 'eggpool serve' to see it.";
  }
  const lines = tailLines(logFile, LOG_TAIL_LINES);
  if (lines.length === 0) return `The log ${logFile} is empty.`;
  return [`Last lines of ${logFile}:`, ...lines.map((l) => `  ${l}`)].join("\n");
}
