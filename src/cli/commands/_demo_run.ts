/**
 * `eggpool demo` itself: simulated providers, a generated config in a
 * temporary folder, the real server on loopback, traffic, and on SIGINT or
 * SIGTERM a clean stop that leaves no process, port or temporary file.
 */
import { CliError } from "../../core/errors.ts";
import { loadConfig } from "../../config/load.ts";
import { runServer } from "../../http/serve.ts";
import {
  DEMO_PROVIDERS,
  demoConfigToml,
  demoModels,
  startDemoWorld,
} from "../../sim/demo_world.ts";
import type { DemoWorld } from "../../sim/demo_world.ts";
import { startTraffic, type Traffic, type TrafficLevel } from "../../sim/traffic.ts";
import type { LoadedConfig } from "../../config/types.ts";
import type { CliContext } from "../context.ts";
import { demoBanner, type DemoBannerInfo } from "./_demo_banner.ts";

/** The spec's port: the demo takes it when it is free, so printed settings stay the same. */
export const DEMO_PREFERRED_PORT = 11300;
const HOST = "127.0.0.1";

/** What the command line asked for. */
export interface DemoOptions {
  /** undefined: 11300 when free, else any free port; 0: any free port. */
  port?: number;
  traffic: TrafficLevel;
  /** Keep the database in this file instead of the temporary folder. */
  db?: string;
  printConfig: boolean;
}

/** Resolves on the first SIGINT or SIGTERM; later ones are swallowed while we clean up. */
function stopSignal(): { stopped: Promise<string>; dispose(): void } {
  const { promise, resolve } = Promise.withResolvers<string>();
  const handlers = (["SIGINT", "SIGTERM"] as const).map((sig) =>
    [sig, () => resolve(sig)] as const
  );
  for (const [sig, handler] of handlers) Deno.addSignalListener(sig, handler);
  return {
    stopped: promise,
    dispose: () => {
      for (const [sig, handler] of handlers) Deno.removeSignalListener(sig, handler);
    },
  };
}

/**
 * The port to use: the explicit one, else 11300 when nothing listens there;
 * 0 (or a taken 11300) becomes a free port the system names, so the config
 * and the printed settings say the real number.
 */
function choosePort(port: number | undefined): number {
  if (port !== undefined && port !== 0) return port;
  if (port === undefined) {
    try {
      Deno.listen({ hostname: HOST, port: DEMO_PREFERRED_PORT }).close();
      return DEMO_PREFERRED_PORT;
    } catch {
      // Taken: any free port below.
    }
  }
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const free = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return free;
}

function absolute(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return `ep_demo_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Runs the demo until a stop signal; resolves once everything it started is gone. */
export async function runDemo(ctx: CliContext, options: DemoOptions): Promise<void> {
  const signal = stopSignal();
  let tempDir: string | undefined;
  let world: DemoWorld | undefined;
  let farewell = "";
  try {
    tempDir = await Deno.makeTempDir({ prefix: "eggpool-demo-" });
    world = await startDemoWorld();
    const port = choosePort(options.port);
    const localKey = randomKey();
    const dbPath = options.db ? absolute(options.db) : `${tempDir}/usage.sqlite3`;
    const toml = demoConfigToml(world, { port, localKey, dbPath });
    if (options.printConfig) {
      ctx.io.out(toml);
      return;
    }
    const configPath = `${tempDir}/config.toml`;
    await Deno.writeTextFile(configPath, toml, { mode: 0o600 });
    // The user's environment has no say: the demo's config names every value itself.
    const loaded = await loadConfig(configPath, { env: () => undefined });
    const sent = await serveDemo(ctx, loaded, {
      port,
      stopped: signal.stopped,
      banner: { localKey, dbPath, dbKept: options.db !== undefined, tempDir },
      traffic: options.traffic,
    });
    farewell = "Demo stopped" +
      (sent > 0 ? `; the simulated agents sent ${sent} requests` : "") +
      (options.db ? `; the database stays in ${dbPath}` : "") +
      "; temporary files removed.\n";
  } finally {
    await world?.close();
    if (tempDir !== undefined) {
      await Deno.remove(tempDir, { recursive: true }).catch((error) => {
        farewell = "";
        ctx.io.err(`warning: cannot remove ${tempDir}: ${error.message}\n`);
      });
    }
    signal.dispose();
  }
  ctx.io.out(farewell);
}

/** What {@linkcode serveDemo} needs besides the config. */
interface ServeDemoOptions {
  port: number;
  stopped: Promise<string>;
  banner: Pick<DemoBannerInfo, "localKey" | "dbPath" | "dbKept" | "tempDir">;
  traffic: TrafficLevel;
}

/**
 * The real server until the stop signal, the banner once it listens, then the
 * agents; the agents stop before the server drains. Returns how many requests
 * they sent.
 */
async function serveDemo(
  ctx: CliContext,
  loaded: LoadedConfig,
  options: ServeDemoOptions,
): Promise<number> {
  const models = demoModels();
  let traffic: Traffic | undefined;
  const stop = options.stopped.then(async (why) => {
    await traffic?.stop();
    return why;
  });
  try {
    await runServer(loaded, {
      port: options.port,
      stop,
      log: (m) => ctx.io.err(`[eggpool] ${m}\n`),
      onListen: (addr) => {
        const origin = `http://${HOST}:${addr.port}`;
        const { localKey } = options.banner;
        ctx.io.out(demoBanner({
          ...options.banner,
          origin,
          traffic: options.traffic,
          providers: DEMO_PROVIDERS,
          models,
        }));
        traffic = startTraffic({ origin, localKey, level: options.traffic, models });
      },
    });
  } catch (error) {
    throw error instanceof Deno.errors.AddrInUse ? portTaken(options.port) : error;
  } finally {
    await traffic?.stop();
  }
  return traffic?.counts.sent ?? 0;
}

function portTaken(port: number): CliError {
  return new CliError(
    `cannot listen on ${HOST}:${port}: the address is already in use; ` +
      "pick another --port, or --port 0 for any free one",
  );
}
