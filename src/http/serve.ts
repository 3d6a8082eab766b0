/**
 * Runs the HTTP server in the foreground until SIGINT/SIGTERM: stop accepting,
 * let in-flight requests and streams finish within a grace period, then end
 * what is left with an error event, flush stats and close the database.
 */
import type { LoadedConfig } from "../config/types.ts";
import { createApp } from "../app.ts";
import { filterLog } from "../core/log_level.ts";
import type { App, AppOptions } from "../app.ts";
import { type GuardedServer, serveGuarded } from "./conn_guard.ts";
import { defaultMaxConnections, raiseFileLimit } from "../ops/rlimit.ts";

/**
 * After the grace, how long the server waits for connections to take the
 * error events it just sent before it exits anyway: a client that stopped
 * reading must not hold the process (and the stats flush) open.
 */
export const SHUTDOWN_CLOSE_WAIT_MS = 2_000;

/** Options for {@linkcode runServer}. */
export interface RunServerOptions extends AppOptions {
  /** Overrides `[server].port` (tests use 0 for a free port). */
  port?: number;
  /** Resolves when the server should stop; defaults to SIGINT or SIGTERM. */
  stop?: Promise<unknown>;
  /** Overrides `[server].shutdown_grace_s`. */
  graceMs?: number;
  onListen?(addr: { hostname: string; port: number }, app: App): void;
}

/**
 * SIGINT/SIGTERM for the whole shutdown, not only the first one: while a
 * listener is installed a signal no longer kills the process, so a second
 * SIGTERM (an impatient operator, or `systemctl stop` twice) cuts the grace
 * short instead of exiting before the stats are flushed.
 */
interface StopSignals {
  /** The first stop signal's name. */
  first: Promise<string>;
  /** The name of any stop signal after the first. */
  again: Promise<string>;
  dispose(): void;
}

function stopSignals(): StopSignals {
  let seen = 0;
  let onFirst!: (s: string) => void;
  let onAgain!: (s: string) => void;
  const first = new Promise<string>((r) => (onFirst = r));
  const again = new Promise<string>((r) => (onAgain = r));
  const handlers: [Deno.Signal, () => void][] = (["SIGINT", "SIGTERM"] as const).map((
    sig,
  ) => [sig, () => (seen++ === 0 ? onFirst(sig) : onAgain(sig))]);
  for (const [sig, h] of handlers) Deno.addSignalListener(sig, h);
  return {
    first,
    again,
    dispose: () => {
      for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
    },
  };
}

/** Serves until stopped; returns the process exit code. */
export async function runServer(
  loaded: LoadedConfig,
  options: RunServerOptions = {},
): Promise<number> {
  const log = filterLog(
    options.log ?? ((m: string) => console.error(`[eggpool] ${m}`)),
    loaded.config.server.log_level,
  );
  const app = await createApp(loaded, { ...options, log });
  const c = loaded.config.server;
  const signals = options.stop ? undefined : stopSignals();
  let server: GuardedServer;
  try {
    const fd = raiseFileLimit();
    // A proxied request holds the client's socket and the upstream's; the
    // half-close relay adds a socket pair.
    const perConnection = c.half_close ? 4 : 2;
    const maxConnections = c.max_connections ?? defaultMaxConnections(fd.after, perConnection);
    if (fd.after && fd.after.soft < maxConnections * perConnection) {
      log(
        `[server].max_connections = ${maxConnections} needs about ` +
          `${maxConnections * perConnection} file ` +
          `descriptors but the open-file limit is ${fd.after.soft}: raise LimitNOFILE or lower the cap`,
      );
    }
    server = serveGuarded({
      hostname: c.host,
      port: options.port ?? c.port,
      headerTimeoutMs: c.header_timeout_s * 1000,
      idleTimeoutMs: c.idle_timeout_s * 1000,
      maxConnections,
      halfClose: c.half_close,
      log,
      onListen: (addr) => {
        log(`Listening on http://${addr.hostname}:${addr.port} (pid ${Deno.pid})`);
        options.onListen?.(addr, app);
      },
      onError: (error) => {
        log(`Unhandled error: ${error instanceof Error ? error.message : error}`);
        return new Response(JSON.stringify({ error: "Internal proxy error" }), {
          status: 500,
          headers: { "content-type": "application/json" },
        });
      },
      handler: app.handler,
    });
  } catch (error) {
    signals?.dispose();
    app.close();
    throw error;
  }
  const why = await (options.stop ?? signals!.first);
  log(`Shutting down (${typeof why === "string" ? why : "stop requested"})`);
  const grace = options.graceMs ?? Math.round(c.shutdown_grace_s * 1000);
  const timers: ReturnType<typeof setTimeout>[] = [];
  const after = <T>(ms: number, value: T) =>
    new Promise<T>((r) => timers.push(setTimeout(() => r(value), ms)));
  try {
    const how = await Promise.race([
      server.shutdown().then(() => "drained"),
      after(grace, "grace"),
      ...(signals ? [signals.again] : []),
    ]);
    if (how !== "drained") {
      log(
        how === "grace"
          ? `In-flight requests still open after ${grace} ms: ending them`
          : `${how} again: ending in-flight requests now`,
      );
      app.abortInFlight();
      const closed = await Promise.race([
        server.finished.then(() => true),
        after(SHUTDOWN_CLOSE_WAIT_MS, false),
      ]);
      if (!closed) log("Some clients did not take their last bytes; exiting anyway");
    }
  } finally {
    for (const t of timers) clearTimeout(t);
    // Flush the stats and close the database before the signal listeners go:
    // until then a further signal cannot end the process mid-write.
    app.close();
    signals?.dispose();
  }
  log("Stopped");
  return 0;
}
