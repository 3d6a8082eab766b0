/**
 * Runs `eggpool demo` as a subprocess (from the source tree or a bundle) in a
 * clean environment, waits for its banner and reads the settings it printed,
 * the way a user copies them from the terminal.
 */
import { denoChildEnv } from "./cli.ts";
import { DEMO_READY_LINE } from "../../src/cli/commands/_demo_banner.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../../deno.json", import.meta.url).pathname;
/** Generous: the first start compiles the module graph on a shared 2-core box. */
const BANNER_TIMEOUT_MS = 120_000;

/** What the banner says, plus each `--- name ---` block's text by name. */
export interface DemoSettings {
  origin: string;
  localKey: string;
  tempDir: string;
  dbPath: string;
  blocks: Map<string, string>;
}

/** A running demo; dispose it to SIGKILL it if a test failed before stopping it. */
export interface DemoProcess extends AsyncDisposable {
  readonly pid: number;
  readonly settings: DemoSettings;
  /** Sends `signal` and returns the exit code and everything printed. */
  stop(signal?: Deno.Signal): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Options for {@linkcode startDemo}. */
export interface StartDemoOptions {
  cwd: string;
  env: Record<string, string>;
  /** A bundled `main.js` instead of the source tree. */
  script?: string;
}

function field(banner: string, label: string): string {
  const m = new RegExp(`^  ${label} +(\\S+)`, "m").exec(banner);
  if (!m) throw new Error(`The demo banner has no '${label}' line:\n${banner}`);
  return m[1];
}

/** Splits the banner into its `--- name ---` blocks (names without the parenthesised notes). */
function blocksOf(banner: string): Map<string, string> {
  const blocks = new Map<string, string>();
  const parts = banner.split(/^--- (.+?) ---$/m);
  for (let i = 1; i < parts.length; i += 2) {
    const name = parts[i].replace(/\s*\(.*\)$/, "");
    blocks.set(name, parts[i + 1].replace(DEMO_READY_LINE, "").trim());
  }
  return blocks;
}

/** Parses the banner `eggpool demo` printed. */
export function parseDemoBanner(banner: string): DemoSettings {
  return {
    origin: field(banner, "Dashboard").replace(/\/$/, ""),
    localKey: field(banner, "Local key"),
    tempDir: field(banner, "Temp files"),
    dbPath: field(banner, "Database"),
    blocks: blocksOf(banner),
  };
}

async function collect(stream: ReadableStream<Uint8Array>, into: { text: string }) {
  const decoder = new TextDecoder();
  for await (const chunk of stream) into.text += decoder.decode(chunk, { stream: true });
}

/** Starts `eggpool demo ARGS` and resolves once its banner is complete. */
export async function startDemo(args: string[], options: StartDemoOptions): Promise<DemoProcess> {
  const denoArgs = options.script
    ? ["run", "--allow-all", "--no-config", options.script]
    : ["run", "--allow-all", `--config=${DENO_JSON}`, MAIN];
  const child = new Deno.Command(Deno.execPath(), {
    args: [...denoArgs, "demo", ...args],
    cwd: options.cwd,
    env: {
      ...denoChildEnv(),
      NO_COLOR: "1",
      ...options.env,
    },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = { text: "" };
  const err = { text: "" };
  const reading = Promise.all([collect(child.stdout, out), collect(child.stderr, err)]);
  const deadline = Date.now() + BANNER_TIMEOUT_MS;
  let exited = false;
  child.status.then(() => (exited = true));
  while (!out.text.includes(DEMO_READY_LINE)) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill("SIGKILL");
      await child.status;
      await reading;
      throw new Error(`The demo printed no banner:\n${out.text}\n${err.text}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const settings = parseDemoBanner(out.text);
  let stopped: Promise<{ code: number; stdout: string; stderr: string }> | undefined;
  const stop = (signal: Deno.Signal = "SIGINT") =>
    stopped ??= (async () => {
      child.kill(signal);
      const { code } = await child.status;
      await reading;
      return { code, stdout: out.text, stderr: err.text };
    })();
  return {
    pid: child.pid,
    settings,
    stop,
    async [Symbol.asyncDispose]() {
      if (stopped === undefined && !exited) {
        child.kill("SIGKILL");
        stopped = child.status.then(async ({ code }) => {
          await reading;
          return { code, stdout: out.text, stderr: err.text };
        });
      }
      await (stopped ?? reading);
    },
  };
}

/** True while something accepts connections on `origin`'s port. */
export async function isListening(origin: string): Promise<boolean> {
  const { hostname, port } = new URL(origin);
  try {
    const conn = await Deno.connect({ hostname, port: Number(port) });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

/** True while a process with this id exists. */
export function isAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}
