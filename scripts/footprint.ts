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
import { startProbeServer } from "./_probe_server.ts";

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
    const server = await startProbeServer(`${bundle}/main.js`, dir);
    try {
      const ms = server.readyMs;
      await new Promise((r) => setTimeout(r, 5_000));
      const mb = server.rssBytes() / 1024 / 1024;
      starts.push(ms);
      rss.push(mb);
      console.log(`run ${i + 1}: ready in ${ms.toFixed(0)} ms, idle RSS ${mb.toFixed(1)} MB`);
    } finally {
      await server.stop();
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
