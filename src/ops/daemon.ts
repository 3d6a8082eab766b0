/**
 * `serve --daemon`, `restart` and `rehash` share this: start a detached
 * server and wait until it answers `/v1/healthz`, or report why it did not
 * with the tail of its log.
 */
import type { PathEnv } from "../config/paths.ts";
import { CliError } from "../core/errors.ts";
import type { BindAddress } from "./guard.ts";
import { assertNoOtherServer } from "./guard.ts";
import { serverOrigin } from "./health.ts";
import { awaitHealthy } from "./ready_wait.ts";
import { startDetachedServer } from "./start.ts";

/**
 * How long to wait for a new server's first healthy answer. Startup loads
 * every provider's model list when `startup_refresh` is on, which can take
 * several seconds on a Pi.
 */
export const DAEMON_READY_TIMEOUT_MS = 20_000;

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
  const failure = await awaitHealthy(
    result,
    origin,
    options.readyTimeoutMs ?? DAEMON_READY_TIMEOUT_MS,
  );
  if (failure !== undefined) throw new CliError(failure);
  return { pid: result.pid, pidFile: result.pidFile, logFile: result.logFile, origin };
}
