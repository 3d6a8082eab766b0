/**
 * Wall time of the cron fast path (`croncheck`, `ensure-running`) against an
 * already running server, run from the bundle (`deno task bundle`,
 * scripts/bundle.ts) the way a Pi would, next to `deno --version` (the
 * runtime's bare start-up) and `deno run` of an empty script (the least any
 * script pays) measured in the same run. Run alone with `deno run -A
 * scripts/bench_ops.ts [--runs N] [--json]`, or call {@linkcode benchOps}
 * from the main bench runner.
 *
 * For reference it also times `croncheck` from the source tree (`deno run
 * main.ts`), which loads modules one by one the way a compiled binary does,
 * and from a single-file bundle, which parses and evaluates everything on
 * every run.
 */

import { freePort } from "../tests/_helpers/ops.ts";
import { bundle } from "./bundle.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const LOCAL_KEY = "ep_bench_local_key_0123456789";
/** The issue's target for each fast-path command. */
export const FAST_PATH_TARGET_MS = 60;

/** Timing of one command over the runs. */
export interface OpsTiming {
  name: string;
  medianMs: number;
  p90Ms: number;
  minMs: number;
  /** Median over the `deno --version` median. */
  ratio: number;
}

/** What {@linkcode benchOps} measured. */
export interface OpsBenchResult {
  runs: number;
  deno: string;
  rows: OpsTiming[];
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

async function run(argv: string[], env: Record<string, string>, cwd: string) {
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    clearEnv: true,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

async function timed(argv: string[], env: Record<string, string>, cwd: string): Promise<number> {
  const t0 = performance.now();
  const r = await run(argv, env, cwd);
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`${argv.slice(-3).join(" ")} exited ${r.code}: ${r.text}`);
  return ms;
}

async function writeConfig(dir: string, port: number): Promise<string> {
  const path = `${dir}/config.toml`;
  await Deno.writeTextFile(
    path,
    `[server]\nhost = "127.0.0.1"\nport = ${port}\napi_key = "${LOCAL_KEY}"\n` +
      `[database]\npath = "${dir}/usage.sqlite3"\n[models]\nstartup_refresh = false\n` +
      `[providers.p]\nid = "p"\nbase_url = "http://127.0.0.1:9/v1"\nprotocols = ["openai"]\n` +
      `[[providers.p.static_models]]\nid = "m"\n` +
      `[[providers.p.accounts]]\nname = "a1"\napi_key = "sk-bench-account-key-1"\n`,
  );
  return path;
}

/** Bundles EggPool, starts it from the bundle, and times the fast path `runs` times each. */
export async function benchOps(options: { runs?: number } = {}): Promise<OpsBenchResult> {
  const runs = options.runs ?? 20;
  const dir = await Deno.makeTempDir({ prefix: "eggpool-bench-ops-" });
  const deno = Deno.execPath();
  const single = `${dir}/eggpool.js`;
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
    HOME: `${dir}/home`,
    EGGPOOL_PID_FILE: `${dir}/eggpool.pid`,
    EGGPOOL_LOG_FILE: `${dir}/eggpool.log`,
    NO_COLOR: "1",
  };
  const built = await run(
    [deno, "bundle", "--quiet", "--platform", "deno", "--output", single, "main.ts"],
    env,
    ROOT,
  );
  if (built.code !== 0) throw new Error(`deno bundle failed: ${built.text}`);
  const entry = await bundle(`${dir}/bundle`);
  const empty = `${dir}/empty.js`;
  await Deno.writeTextFile(empty, "");
  const config = await writeConfig(dir, freePort());
  const viaBundle = [deno, "run", "--allow-all", "--no-config", entry, "--config", config];
  const commands: [string, string[]][] = [
    ["deno --version (baseline)", [deno, "--version"]],
    ["deno run of an empty script", [deno, "run", "--no-config", empty]],
    ["croncheck (bundle)", [...viaBundle, "croncheck"]],
    ["ensure-running (bundle)", [...viaBundle, "ensure-running", "--as-root"]],
    ["croncheck (source main.ts)", [
      deno,
      "run",
      "--allow-all",
      `--config=${ROOT}deno.json`,
      `${ROOT}main.ts`,
      "--config",
      config,
      "croncheck",
    ]],
    ["croncheck (single-file bundle)", [
      deno,
      "run",
      "--allow-all",
      "--no-config",
      single,
      "--config",
      config,
      "croncheck",
    ]],
  ];
  try {
    const started = await run([...viaBundle, "serve", "--daemon", "--as-root"], env, dir);
    if (started.code !== 0) throw new Error(`serve --daemon failed: ${started.text}`);
    const samples = commands.map(() => [] as number[]);
    // Two warm-up rounds fill V8's code cache; then interleave so drift hits every row alike.
    for (let round = -2; round < runs; round++) {
      for (const [i, [, argv]] of commands.entries()) {
        const ms = await timed(argv, env, dir);
        if (round >= 0) samples[i].push(ms);
      }
    }
    const base = quantile([...samples[0]].sort((a, b) => a - b), 0.5);
    const rows = commands.map(([name], i) => {
      const sorted = [...samples[i]].sort((a, b) => a - b);
      const medianMs = quantile(sorted, 0.5);
      return {
        name,
        medianMs,
        p90Ms: quantile(sorted, 0.9),
        minMs: sorted[0],
        ratio: medianMs / base,
      };
    });
    return { runs, deno: Deno.version.deno, rows };
  } finally {
    await run([...viaBundle, "stop"], env, dir).catch(() => undefined);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The result as a small text table. */
export function formatOpsBench(result: OpsBenchResult): string {
  const lines = [
    `Fast path wall time, ${result.runs} runs each (deno ${result.deno}; target < ${FAST_PATH_TARGET_MS} ms)`,
    `${"command".padEnd(30)}${"median".padStart(10)}${"p90".padStart(10)}${"min".padStart(10)}${
      "x base".padStart(9)
    }`,
  ];
  for (const r of result.rows) {
    const flag = !r.name.includes("(") || r.name.includes("baseline")
      ? ""
      : r.medianMs < FAST_PATH_TARGET_MS
      ? "  ok"
      : "  over target";
    lines.push(
      `${r.name.padEnd(30)}${`${r.medianMs.toFixed(1)} ms`.padStart(10)}${
        `${r.p90Ms.toFixed(1)} ms`.padStart(10)
      }` +
        `${`${r.minMs.toFixed(1)} ms`.padStart(10)}${r.ratio.toFixed(1).padStart(8)}x${flag}`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--runs");
  const runs = i >= 0 ? Number(Deno.args[i + 1]) : 20;
  const result = await benchOps({ runs });
  console.log(
    Deno.args.includes("--json") ? JSON.stringify(result, null, 2) : formatOpsBench(result),
  );
}
