/**
 * A real `serve` with a one-provider config in a temporary folder, for the
 * scripts that measure the idle server (footprint.ts, flood_rss.ts).
 */

/** The local key of the probe server's config. */
export const PROBE_KEY = "ep_probe_measure_only_key_0123456789";

/** A started server: its process and port. */
export interface ProbeServer {
  child: Deno.ChildProcess;
  port: number;
  /** Milliseconds from spawning to the first 200 from /v1/healthz. */
  readyMs: number;
  /** Resident memory of the server process, in bytes (from /proc). */
  rssBytes(): number;
  stop(): Promise<void>;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

/** Starts `script` (main.ts or the bundle's main.js) as `serve` in `dir`, waits until it answers. */
export async function startProbeServer(script: string, dir: string): Promise<ProbeServer> {
  const port = freePort();
  await Deno.writeTextFile(
    `${dir}/config.toml`,
    [
      "[server]",
      `port = ${port}`,
      'host = "127.0.0.1"',
      `api_key = "${PROBE_KEY}"`,
      "[database]",
      `path = "${dir}/usage.sqlite3"`,
      "[providers.local]",
      'id = "local"',
      'base_url = "http://127.0.0.1:9/v1"',
      'static_models = [{ id = "m" }]',
      'models_endpoint = { method = "DISABLED" }',
      "[[providers.local.accounts]]",
      'name = "local-1"',
      'api_key = "k-probe"',
      "",
    ].join("\n"),
  );
  const began = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--v8-flags=--max-semi-space-size=8,--heap-growing-percent=50,--no-maglev",
      script,
      "--config",
      `${dir}/config.toml`,
      "serve",
    ],
    cwd: dir,
    env: { HOME: dir, XDG_STATE_HOME: `${dir}/state`, XDG_CONFIG_HOME: `${dir}/cfg` },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await child.status;
  };
  for (;;) {
    if (performance.now() - began > 30_000) {
      await stop();
      throw new Error("serve did not answer /v1/healthz within 30 s");
    }
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v1/healthz`);
      await r.body?.cancel();
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  return {
    child,
    port,
    readyMs: performance.now() - began,
    rssBytes() {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      return Number(status.match(/^VmRSS:\s+(\d+) kB$/m)?.[1] ?? NaN) * 1024;
    },
    stop,
  };
}
