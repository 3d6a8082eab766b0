/**
 * Runs the HTTP server in the foreground until SIGINT/SIGTERM: stop accepting,
 * let in-flight requests and streams finish within a grace period, then end
 * what is left with an error event, flush stats and close the database.
 */
import type { LoadedConfig } from "../config/types.ts";
import { createApp } from "../app.ts";
import type { App, AppOptions } from "../app.ts";

/** How long in-flight requests may run on after a shutdown signal. */
export const SHUTDOWN_GRACE_MS = 10_000;

/** Options for {@linkcode runServer}. */
export interface RunServerOptions extends AppOptions {
  /** Overrides `[server].port` (tests use 0 for a free port). */
  port?: number;
  /** Resolves when the server should stop; defaults to SIGINT or SIGTERM. */
  stop?: Promise<unknown>;
  graceMs?: number;
  onListen?(addr: { hostname: string; port: number }, app: App): void;
}

function signalPromise(): { promise: Promise<string>; dispose(): void } {
  let resolve!: (s: string) => void;
  const promise = new Promise<string>((r) => (resolve = r));
  const handlers: [Deno.Signal, () => void][] = (["SIGINT", "SIGTERM"] as const).map((
    sig,
  ) => [sig, () => resolve(sig)]);
  for (const [sig, h] of handlers) Deno.addSignalListener(sig, h);
  return {
    promise,
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
  const log = options.log ?? ((m: string) => console.error(`[eggpool] ${m}`));
  const app = await createApp(loaded, { ...options, log });
  const c = loaded.config.server;
  const signals = options.stop ? undefined : signalPromise();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: c.host,
      port: options.port ?? c.port,
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
    }, (req, info) => app.handler(req, info.remoteAddr.hostname));
  } catch (error) {
    signals?.dispose();
    app.close();
    throw error;
  }
  const why = await (options.stop ?? signals!.promise);
  signals?.dispose();
  log(`Shutting down (${typeof why === "string" ? why : "stop requested"})`);
  const grace = options.graceMs ?? SHUTDOWN_GRACE_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const drained = await Promise.race([
    server.shutdown().then(() => true),
    new Promise<false>((r) => (timer = setTimeout(() => r(false), grace))),
  ]);
  clearTimeout(timer);
  if (!drained) {
    log(`In-flight requests still open after ${grace} ms: ending them`);
    app.abortInFlight();
    await server.finished;
  }
  app.close();
  log("Stopped");
  return 0;
}
