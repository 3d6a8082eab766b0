/**
 * Helpers for the agent CLI tests: where `deno task test` (scripts/test_deps.ts) installs the real clients
 * (`npm install --prefix .ci/agents`), a loopback tap that forwards every
 * request to EggPool and notes what the client asked for, and a runner that
 * starts a client in a clean environment (temp HOME, no inherited keys).
 */

const AGENTS_DIR = new URL("../../.ci/agents/", import.meta.url).pathname;

/** The installed CLI `name` (`claude`, `opencode`, `codex`); throws a one-line fix when missing. */
export function agentBin(name: string): string {
  const path = `${AGENTS_DIR}node_modules/.bin/${name}`;
  try {
    Deno.statSync(path);
  } catch {
    throw new Error(
      `${path} is missing: 'deno task test' installs the agent CLIs with npm first (scripts/test_deps.ts); see its output`,
    );
  }
  return path;
}

/** One request the tap forwarded. */
export interface TapRecord {
  method: string;
  /** Path and query. */
  path: string;
  status: number;
}

/** A forwarding proxy on loopback; point a client at `origin`, set `target` to EggPool. */
export interface Tap extends AsyncDisposable {
  readonly origin: string;
  readonly port: number;
  target: string;
  readonly seen: TapRecord[];
}

/** Starts a tap that forwards to `target` (settable later) and records method, path and status. */
export function startTap(target = ""): Tap {
  const seen: TapRecord[] = [];
  const tap = { target, seen } as { target: string; seen: TapRecord[] };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const headers = new Headers(req.headers);
    headers.delete("host");
    const body = req.body === null ? undefined : await req.arrayBuffer();
    const res = await fetch(`${tap.target}${url.pathname}${url.search}`, {
      method: req.method,
      headers,
      body,
      redirect: "manual",
    });
    seen.push({ method: req.method, path: `${url.pathname}${url.search}`, status: res.status });
    const out = new Headers(res.headers);
    out.delete("content-encoding");
    out.delete("content-length");
    return new Response(res.body, { status: res.status, headers: out });
  });
  const port = server.addr.port;
  return Object.assign(tap, {
    origin: `http://127.0.0.1:${port}`,
    port,
    [Symbol.asyncDispose]: () => server.shutdown(),
  });
}

/** What a client run printed. */
export interface AgentResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `bin args` in `cwd` with only PATH, `env` and the given HOME set, stdin
 * closed, killed after `timeoutMs` (a hung client fails the test, never the suite).
 */
export async function runAgent(
  bin: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs?: number },
): Promise<AgentResult> {
  const child = new Deno.Command(bin, {
    args,
    cwd: options.cwd,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", NO_COLOR: "1", ...options.env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 90_000);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}
