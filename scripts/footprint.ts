/**
 * `deno run -A scripts/footprint.ts [--runs N]`: what a user's machine pays
 * for EggPool before any traffic, measured on the bundle (the same module
 * graph `deno compile` embeds): its size on disk, the time from spawning
 * `serve` to the first `200` from `/v1/healthz`, and the resident memory of
 * the idle server 5 s after it answered. Prints one line per run and the
 * medians; docs/platforms.md quotes them.
 *
 * The compiled binary cannot be built here (`deno compile` downloads its
 * runtime, `denort`, from dl.deno.land), so its size is not measured: it is
 * the runtime's plus the bundle's.
 */
import { parseArgs } from "node:util";

const ROOT = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({ args: Deno.args, options: { runs: { type: "string" } } });
const runs = Number(values.runs ?? 3);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile) total += (await Deno.stat(`${dir}/${e.name}`)).size;
  }
  return total;
}

function rssMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(status.match(/^VmRSS:\s+(\d+) kB$/m)?.[1] ?? NaN);
  return kb / 1024;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

async function healthy(port: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/v1/healthz`);
    await r.body?.cancel();
    return r.status === 200;
  } catch {
    return false;
  }
}

const work = await Deno.makeTempDir({ prefix: "eggpool-footprint-" });
try {
  const bundle = `${work}/bundle`;
  const built = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${ROOT}scripts/bundle.ts`, bundle],
    cwd: ROOT,
    stdout: "null",
    stderr: "inherit",
  }).output();
  if (!built.success) throw new Error("deno task bundle failed");
  const bytes = await dirBytes(bundle);
  console.log(`bundle: ${(bytes / 1024 / 1024).toFixed(2)} MiB in ${bundle}`);

  const starts: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = `${work}/run${i}`;
    await Deno.mkdir(dir);
    const port = freePort();
    await Deno.writeTextFile(
      `${dir}/config.toml`,
      [
        "[server]",
        `port = ${port}`,
        'host = "127.0.0.1"',
        'api_key = "ep_footprint_only_key_1234567890"',
        "[database]",
        `path = "${dir}/usage.sqlite3"`,
        "[providers.local]",
        'id = "local"',
        'base_url = "http://127.0.0.1:9/v1"',
        'static_models = [{ id = "m" }]',
        'models_endpoint = { method = "DISABLED" }',
        "[[providers.local.accounts]]",
        'name = "local-1"',
        'api_key = "k-footprint"',
        "",
      ].join("\n"),
    );
    const began = performance.now();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--v8-flags=--max-semi-space-size=8,--heap-growing-percent=50,--no-maglev",
        `${bundle}/main.js`,
        "--config",
        `${dir}/config.toml`,
        "serve",
      ],
      cwd: dir,
      env: { HOME: dir, XDG_STATE_HOME: `${dir}/state`, XDG_CONFIG_HOME: `${dir}/cfg` },
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      while (!(await healthy(port))) {
        if (performance.now() - began > 30_000) throw new Error("serve did not answer in 30 s");
        await new Promise((r) => setTimeout(r, 5));
      }
      const ms = performance.now() - began;
      await new Promise((r) => setTimeout(r, 5_000));
      const mb = rssMb(child.pid);
      starts.push(ms);
      rss.push(mb);
      console.log(`run ${i + 1}: ready in ${ms.toFixed(0)} ms, idle RSS ${mb.toFixed(1)} MB`);
    } finally {
      child.kill("SIGTERM");
      await child.status;
    }
  }
  console.log(
    `median of ${runs}: ready in ${median(starts).toFixed(0)} ms, idle RSS ${
      median(rss).toFixed(1)
    } MB`,
  );
} finally {
  await Deno.remove(work, { recursive: true });
}
