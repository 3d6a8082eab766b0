/** Runs the real CLI (`main.ts` or a bundle) as a subprocess, the way a user does. */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../../deno.json", import.meta.url).pathname;

/** What a CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@linkcode runEggpool}. */
export interface RunEggpoolOptions {
  /** Working directory; defaults to a caller-provided temp dir. */
  cwd: string;
  /** Environment variables; HOME and XDG dirs should point into a temp dir. */
  env?: Record<string, string>;
  /** Run this bundled JS file instead of the source tree's main.ts. */
  script?: string;
  stdin?: string;
}

/**
 * Runs `eggpool ARGS` in a clean environment: only PATH and what `env` gives
 * are set, so the user's real config and keys never leak into a test.
 */
export async function runEggpool(args: string[], options: RunEggpoolOptions): Promise<CliResult> {
  const script = options.script ?? MAIN;
  const denoArgs = options.script
    ? ["run", "--allow-all", "--no-config", script, ...args]
    : ["run", "--allow-all", `--config=${DENO_JSON}`, script, ...args];
  const env: Record<string, string> = {
    ...denoChildEnv(),
    NO_COLOR: "1",
    ...options.env,
  };
  const cmd = new Deno.Command(Deno.execPath(), {
    args: denoArgs,
    cwd: options.cwd,
    env,
    clearEnv: true,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const child = cmd.spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * What a child Deno needs from this environment under `clearEnv`: PATH, and
 * the module cache (so nothing is downloaded again).
 */
export function denoChildEnv(): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
  };
}

/** A HOME/XDG layout inside `root`, so nothing touches the real user's files. */
export function isolatedEnv(root: string): Record<string, string> {
  return {
    HOME: `${root}/home`,
    XDG_CONFIG_HOME: `${root}/home/.config`,
    XDG_DATA_HOME: `${root}/home/.local/share`,
    XDG_STATE_HOME: `${root}/home/.local/state`,
  };
}
