/**
 * Helpers for the operations tests: a free port, a minimal server config,
 * an isolated environment with its own PID and log files, and a scope that
 * kills every server a test started, even when the test fails.
 */
import { isolatedEnv } from "./cli.ts";

/** The local key the ops test servers use. */
export const OPS_KEY = "ep_test_local_key_0123456789";

/** A port nothing listens on right now (bound, then released). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * The `[server]` and `[database]` tables every subprocess test config starts
 * with: loopback, the test key, `port`, a database in `dir`; `server` adds keys
 * to `[server]`.
 */
export function serverTomlLines(dir: string, port: number, server: string[] = []): string[] {
  return [
    "[server]",
    'host = "127.0.0.1"',
    `port = ${port}`,
    `api_key = "${OPS_KEY}"`,
    ...server,
    "[database]",
    `path = "${dir}/usage.sqlite3"`,
  ];
}

/** Options for {@linkcode writeServerConfig}. */
export interface ServerConfigOptions {
  /** Extra TOML appended at the end (new tables only). */
  extra?: string;
  accountEnabled?: boolean;
}

/** Writes `<dir>/config.toml`: loopback, the test key, one static-model provider, no network. */
export async function writeServerConfig(
  dir: string,
  port: number,
  options: ServerConfigOptions = {},
): Promise<string> {
  const path = `${dir}/config.toml`;
  await Deno.writeTextFile(
    path,
    [
      ...serverTomlLines(dir, port),
      "[models]",
      "startup_refresh = false",
      "[providers.p]",
      'id = "p"',
      'base_url = "http://127.0.0.1:9/v1"',
      'protocols = ["openai"]',
      "[[providers.p.static_models]]",
      'id = "m"',
      "[[providers.p.accounts]]",
      'name = "a1"',
      'api_key = "sk-test-account-key-1"',
      `enabled = ${options.accountEnabled ?? true}`,
      options.extra ?? "",
    ].join("\n") + "\n",
  );
  return path;
}

/** {@linkcode isolatedEnv} plus this test's own PID file and log file. */
export function opsEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...isolatedEnv(dir),
    EGGPOOL_PID_FILE: `${dir}/run/eggpool.pid`,
    EGGPOOL_LOG_FILE: `${dir}/eggpool.log`,
    ...extra,
  };
}

function cmdlineOf(pid: number): string[] | undefined {
  try {
    const parts = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
    return parts.at(-1) === "" ? parts.slice(0, -1) : parts;
  } catch {
    return undefined;
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** PIDs of live `serve` processes (not `serve --daemon` launchers) started with a config in `dir`. */
export function serverPids(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    const argv = cmdlineOf(pid);
    if (!argv || !argv.includes("serve") || argv.includes("--daemon")) continue;
    if (!argv.some((a) => a.startsWith(`${dir}/`))) continue;
    if (argv[0].endsWith("sh")) continue;
    if (!isZombie(pid)) pids.push(pid);
  }
  return pids;
}

/** True while `pid` is alive and not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    Deno.kill(pid, 0 as unknown as Deno.Signal);
  } catch {
    return false;
  }
  return !isZombie(pid);
}

/** Polls `check` every 50 ms until it is true or `timeoutMs` passes. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return await check();
}

/** True when `/v1/healthz` on the port answers 200. */
export async function healthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1/healthz`, {
      signal: AbortSignal.timeout(1000),
    });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * Kills every server started with a config under `dir` when the scope
 * ends: SIGTERM, then SIGKILL for whatever is left after 5 s.
 */
export function serverScope(dir: string): AsyncDisposable {
  return {
    async [Symbol.asyncDispose]() {
      const signal = (pids: number[], sig: Deno.Signal) => {
        for (const pid of pids) {
          try {
            Deno.kill(pid, sig);
          } catch {
            // Already gone.
          }
        }
      };
      signal(serverPids(dir), "SIGTERM");
      await waitFor(() => serverPids(dir).length === 0, 5000);
      signal(serverPids(dir), "SIGKILL");
      await waitFor(() => serverPids(dir).length === 0, 2000);
    },
  };
}

/** Reads the PID file of an {@linkcode opsEnv} environment. */
export function pidFromFile(dir: string): number | undefined {
  try {
    return Number(Deno.readTextFileSync(`${dir}/run/eggpool.pid`).trim());
  } catch {
    return undefined;
  }
}
