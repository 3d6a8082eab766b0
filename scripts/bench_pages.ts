/**
 * Speed of all thirteen dashboard pages (issue #14) with `period=30d` on a
 * year of history, rendered through the real dashboard routes on a Hono app,
 * beside a route that runs only `SELECT 1` and renders nothing, in the same
 * run. Each page is called `--runs` times after 2 warm-up calls; the table
 * gives wall p50/p95 and this process's CPU time per call (from
 * `/proc/self/stat`, less disturbed by neighbours than wall time), and the
 * verdict against the 100 ms p95 target.
 *
 * `deno run -A scripts/bench_pages.ts [--db PATH] [--rows N] [--runs N] [--only /PAGE]`.
 * Without `--db` it seeds a temporary database of `--rows` (1 000 000) first.
 * With `--db` the file is migrated on open, so pass a copy of a shared file.
 */
import { Hono } from "hono";
import { openDatabase } from "../src/storage/db.ts";
import type { Db } from "../src/storage/db.ts";
import { createKeyChecker } from "../src/http/auth.ts";
import { mountDashboard } from "../src/dashboard/routes.ts";
import { runtimeSnapshot } from "../src/http/runtime_route.ts";
import { RuntimeDiagnostics } from "../src/ops/runtime_diagnostics.ts";
import { arg, benchHistory } from "./_bench_history.ts";

/** The issue's target for a page's p95 at `period=30d`. */
export const PAGE_TARGET_MS = 100;

/** The thirteen pages in the menu's order (spec 06 §1). */
export const PAGES = [
  "/",
  "/reliability",
  "/routing",
  "/cache",
  "/accounts",
  "/models",
  "/latency",
  "/pings",
  "/bandwidth",
  "/traces",
  "/events",
  "/timeseries",
  "/runtime",
] as const;

const BASELINE = "/bench/select1";

/** This process's user + system CPU time in ms (/proc, 10 ms ticks). */
function cpuMs(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** One page's timings. */
export interface PageBenchRow {
  path: string;
  p50Ms: number;
  p95Ms: number;
  cpuMs: number;
}

/** The dashboard on `db` as `eggpool serve` mounts it, public and keyless. */
function benchApp(db: Db, path: string): Hono {
  const app = new Hono();
  app.get(BASELINE, (c) => c.text(String(db.stmt("SELECT 1 AS one").get()?.one)));
  const startedAt = Date.now();
  // The Runtime page's /proc scan and config-file hash, on a file that differs from the "running"
  // one (validated once, then only hashed per load).
  const diagnostics = new RuntimeDiagnostics({
    configPath: new URL("../deno.json", import.meta.url).pathname,
    configDigest: "bench",
    startedAt,
    dbPath: path,
    accounts: [],
    inFlight: () => 0,
    clock: Date.now,
  });
  // No live pool: accounts with history show as unconfigured rows, as after a config change.
  mountDashboard(app, {
    settings: { enabled: true, public: true, theme: "default", refresh_interval_s: 60 },
    keys: createKeyChecker(undefined),
    localKey: undefined,
    db,
    clock: Date.now,
    flush: () => {},
    pool: { status: () => [] },
    diagnostics: () => diagnostics.read(),
    runtime: () =>
      runtimeSnapshot({
        clock: Date.now,
        startedAt,
        version: "bench",
        dbPath: path,
        dbSizes: () => db.fileSizes(),
        recorder: () => ({
          inFlight: 0,
          pendingWrites: 0,
          writeFailures: 0,
          duplicateFinishes: 0,
          droppedRecords: 0,
        }),
        flushIntervalMs: 1000,
        tasks: () => [],
        lag: () => ({ intervalMs: 500, samples: 0, lastMs: 0, meanMs: 0, p95Ms: 0, maxMs: 0 }),
        readiness: () => ({ ok: true }),
      }),
  });
  return app;
}

/** Times the baseline and every page on the database at `path`. */
export async function benchPages(
  path: string,
  runs: number,
  pages: readonly string[] = PAGES,
): Promise<PageBenchRow[]> {
  const db = openDatabase({ path });
  try {
    const app = benchApp(db, path);
    const rows: PageBenchRow[] = [];
    for (const page of [BASELINE, ...pages]) {
      const times: number[] = [];
      let cpuStart = 0;
      for (let i = 0; i < runs + 2; i++) {
        if (i === 2) cpuStart = cpuMs();
        const t0 = performance.now();
        const res = await app.request(`http://localhost${page}?period=30d`);
        const body = await res.text();
        if (res.status !== 200) throw new Error(`${page}: ${res.status} ${body.slice(0, 200)}`);
        if (i >= 2) times.push(performance.now() - t0);
      }
      const cpu = (cpuMs() - cpuStart) / runs;
      times.sort((a, b) => a - b);
      const at = (p: number) => times[Math.max(0, Math.ceil(p * times.length) - 1)];
      rows.push({ path: page, p50Ms: at(0.5), p95Ms: at(0.95), cpuMs: cpu });
    }
    return rows;
  } finally {
    db.close();
  }
}

/** The Markdown table and verdict `deno task bench` prints. */
export function formatPagesBench(rows: PageBenchRow[], requestRows: number): string {
  const lines = [
    `Dashboard pages, period=30d, ${requestRows} request rows (target p95 < ${PAGE_TARGET_MS} ms):`,
    "",
    "| page (period=30d) | p50 ms | p95 ms | CPU ms/call | p95 target |",
    "| --- | --- | --- | --- | --- |",
  ];
  const missed: string[] = [];
  for (const r of rows) {
    const base = r.path === BASELINE;
    const ok = r.p95Ms < PAGE_TARGET_MS;
    if (!base && !ok) missed.push(r.path);
    lines.push(
      `| ${base ? "SELECT 1 route" : `\`${r.path}\``} | ${r.p50Ms.toFixed(1)} | ${
        r.p95Ms.toFixed(1)
      } | ${r.cpuMs.toFixed(0)} | ${base ? "baseline" : ok ? "met" : "missed"} |`,
    );
  }
  // Wall time on a shared machine is mostly waiting for a core: CPU per call says what a page
  // would take on an idle one.
  const heavy = rows.filter((r) => r.path !== BASELINE && r.cpuMs >= PAGE_TARGET_MS)
    .map((r) => r.path);
  lines.push(
    "",
    missed.length === 0
      ? "Every page met the target."
      : `Missed (p95 >= ${PAGE_TARGET_MS} ms): ${missed.join(", ")}`,
    heavy.length === 0
      ? `Every page used under ${PAGE_TARGET_MS} ms of CPU per call.`
      : `CPU per call >= ${PAGE_TARGET_MS} ms: ${heavy.join(", ")}`,
  );
  return lines.join("\n");
}

if (import.meta.main) {
  const runs = Number(arg("--runs") ?? 10);
  await using history = await benchHistory("eggpool-bench-pages-");
  const only = arg("--only");
  console.log(
    formatPagesBench(await benchPages(history.path, runs, only ? [only] : PAGES), history.rows),
  );
}
