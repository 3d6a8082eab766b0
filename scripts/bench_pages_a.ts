/**
 * Speed of the Reliability, Routing, Cache, Models, Latency and Pings pages
 * (issue #14) with `period=30d` on a year of history, rendered through the
 * real dashboard routes on a Hono app, beside a route that runs only
 * `SELECT 1` and renders nothing, in the same run.
 *
 * `deno run -A scripts/bench_pages_a.ts [--db PATH] [--rows N] [--runs N]`.
 * Without `--db` it seeds a temporary database of `--rows` (1 000 000) first.
 */
import { Hono } from "hono";
import { openDatabase } from "../src/storage/db.ts";
import { migrate } from "../src/storage/migrate.ts";
import { MIGRATIONS } from "../src/storage/migrations.ts";
import { createKeyChecker } from "../src/http/auth.ts";
import { mountDashboard } from "../src/dashboard/routes.ts";
import { seedHistory } from "./seed_history.ts";

const PAGES = ["/reliability", "/routing", "/cache", "/models", "/latency", "/pings"];

function arg(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i < 0 ? undefined : Deno.args[i + 1];
}

/** This process's user + system CPU time in ms (/proc, 10 ms ticks). */
function cpuMs(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function main(): Promise<void> {
  const runs = Number(arg("--runs") ?? 10);
  let path = arg("--db");
  let tmp: string | undefined;
  if (path === undefined) {
    tmp = await Deno.makeTempDir({ prefix: "eggpool-bench-pages-" });
    path = `${tmp}/history.db`;
    const seed = openDatabase({ path });
    migrate(seed, MIGRATIONS, { clock: Date.now });
    seedHistory(seed, { rows: Number(arg("--rows") ?? 1_000_000), days: 365, now: Date.now() });
    seed.close();
  }
  const db = openDatabase({ path });
  const app = new Hono();
  app.get("/bench/select1", (c) => c.text(String(db.stmt("SELECT 1 AS one").get()?.one)));
  mountDashboard(app, {
    settings: { enabled: true, public: true, theme: "default", refresh_interval_s: 60 },
    keys: createKeyChecker(undefined),
    localKey: undefined,
    db,
    clock: Date.now,
    flush: () => {},
    pool: { status: () => [] },
  });
  console.log("| page (period=30d) | p50 ms | p95 ms | CPU ms/call |");
  console.log("| --- | --- | --- | --- |");
  for (const page of ["/bench/select1", ...PAGES]) {
    const times: number[] = [];
    let cpuStart = 0;
    for (let i = 0; i < runs + 2; i++) {
      if (i === 2) cpuStart = cpuMs();
      const t0 = performance.now();
      const res = await app.request(`http://localhost${page}?period=30d`);
      await res.text();
      if (res.status !== 200) throw new Error(`${page}: ${res.status}`);
      if (i >= 2) times.push(performance.now() - t0);
    }
    const cpu = (cpuMs() - cpuStart) / runs;
    times.sort((a, b) => a - b);
    const at = (p: number) => times[Math.max(0, Math.ceil(p * times.length) - 1)].toFixed(1);
    const name = page === "/bench/select1" ? "SELECT 1 route" : `\`${page}\``;
    console.log(`| ${name} | ${at(0.5)} | ${at(0.95)} | ${cpu.toFixed(0)} |`);
  }
  db.close();
  if (tmp !== undefined) await Deno.remove(tmp, { recursive: true });
}

if (import.meta.main) await main();
