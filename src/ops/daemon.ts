/**
 * `serve --daemon`, `restart` and `rehash` share this: start a detached
 * server and wait until it answers `/v1/healthz`, or report why it did not
 * with the tail of its log.
 */
import type { PathEnv } from "../config/paths.ts";
import { CliError } from "../core/errors.ts";
import type { BindAddress } from "./guard.ts";
import { assertNoOtherServer } from "./guard.ts";
import { isHealthy, serverOrigin } from "./health.ts";
import { tailLines } from "./log_tail.ts";
import { removePidFileIfOwned } from "./pid_file.ts";
import { startDetachedServer } from "./start.ts";

/**
 * How long to wait for a new server's first healthy answer. Startup loads
 * every provider's model list when `startup_refresh` is on, which can take
 * several seconds on a Pi.
 */
export const DAEMON_READY_TIMEOUT_MS = 20_000;
const READY_POLL_MS = 100;
const LOG_TAIL_LINES = 20;

/** Options for {@linkcode startDaemon}. */
export interface DaemonOptions {
  env: PathEnv;
  configPath: string;
  bind: BindAddress;
  asRoot: boolean;
  logFile?: string;
  quiet?: boolean;
  readyTimeoutMs?: number;
}

/** A server that started and answered its health check. */
export interface StartedDaemon {
  pid: number;
  pidFile: string;
  logFile: string;
  origin: string;
}

/** Starts the server in the background and waits for it to become healthy. */
export async function startDaemon(options: DaemonOptions): Promise<StartedDaemon> {
  const { env, bind } = options;
  const result = await startDetachedServer({
    env,
    configPath: options.configPath,
    asRoot: options.asRoot,
    logFile: options.logFile,
    quiet: options.quiet,
    beforeSpawn: () => assertNoOtherServer(env, bind),
  });
  if (result.kind === "already_running") {
    throw new CliError(
      `server is already running (PID ${result.pid}, PID file ${result.pidFile}); ` +
        "use 'eggpool stop' or 'eggpool restart'",
    );
  }
  const origin = serverOrigin(bind.host, bind.port);
  let exited: Deno.CommandStatus | undefined;
  result.status.then((s) => (exited = s), () => {});
  const timeoutMs = options.readyTimeoutMs ?? DAEMON_READY_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  while (exited === undefined && Date.now() < deadline) {
    if (await isHealthy(origin, 1000)) {
      return { pid: result.pid, pidFile: result.pidFile, logFile: result.logFile, origin };
    }
    await new Promise((r) => setTimeout(r, READY_POLL_MS));
  }
  const tail = describeTail(result.logFile);
  if (exited !== undefined) {
    removePidFileIfOwned(result.pidFile, result.pid);
    const how = exited.signal ? `signal ${exited.signal}` : `code ${exited.code}`;
    throw new CliError(
      `the server exited with ${how} before it answered ${origin}/v1/healthz\n${tail}`,
    );
  }
  throw new CliError(
    `the server (PID ${result.pid}) did not answer ${origin}/v1/healthz within ` +
      `${Math.round(timeoutMs / 1000)} s; it may still be starting\n${tail}`,
  );
}

function describeTail(logFile: string): string {
  if (logFile === "/dev/null") {
    return "Its output was discarded (--quiet); run 'eggpool serve' to see it.";
  }
  const lines = tailLines(logFile, LOG_TAIL_LINES);
  if (lines.length === 0) return `The log ${logFile} is empty.`;
  return [`Last lines of ${logFile}:`, ...lines.map((l) => `  ${l}`)].join("\n");
}
