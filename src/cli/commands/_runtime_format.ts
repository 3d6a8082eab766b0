/** The human summary of `eggpool runtime-status` (spec 07 §2, adapted to a Deno process). */
import type { RuntimeSnapshot, RuntimeTask } from "../../ops/runtime_snapshot.ts";

/** `N B`, then `x.x KB`, `x.x MB`, `x.xx GB` (spec 07 §2). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** Below 1 two decimals, below 10 one decimal, else whole (spec 07 §2). */
export function formatMs(ms: number): string {
  if (ms < 1) return ms.toFixed(2);
  if (ms < 10) return ms.toFixed(1);
  return String(Math.round(ms));
}

/** `Ns`, `Mm Ss` or `Hh Mm`; days as `Dd Hh`. */
export function formatUptime(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

function ago(iso: string, now: number): string {
  return `${formatUptime(Math.max(0, (now - Date.parse(iso)) / 1000))} ago`;
}

function every(t: RuntimeTask): string {
  if (t.intervalMs === undefined) return "";
  return t.intervalMs === 0 ? "on demand" : `every ${formatUptime(t.intervalMs / 1000)}`;
}

function taskLine(t: RuntimeTask, now: number): string {
  const state = t.state === "failing" ? "FAILING" : t.state;
  const parts = [t.lastRunAt === undefined ? "not run yet" : `last run ${ago(t.lastRunAt, now)}`];
  if (every(t) !== "") parts.push(every(t));
  if (t.failures > 0) parts.push(`failures: ${t.failures}`);
  if (t.lastError !== undefined) parts.push(`last error: ${t.lastError}`);
  return `    ${t.name}: ${state} (${parts.join(", ")})`;
}

function row(label: string, value: string | number): string {
  return `  ${`${label}:`.padEnd(20)}${value}`;
}

/** `EggPool Processes: n (expected: 1)` and the warning when another server uses the database. */
function processLines(s: RuntimeSnapshot): string[] {
  const p = s.processes;
  if (p === undefined) return [];
  if (p.observed === undefined) return ["", row("EggPool Processes", "N/A")];
  const lines = ["", row("EggPool Processes", `${p.observed} (expected: ${p.expected})`)];
  if (p.observed > p.expected) {
    lines.push(
      "  *** WARNING: Process count exceeds expected ***",
      `    other servers on this database: PID ${p.others.join(", ")}`,
    );
  }
  return lines;
}

/** Calls opened since start and the providers' HTTP clients (spec 07 §2 "Network"). */
function networkLines(outbound: RuntimeSnapshot["outbound"] & object): string[] {
  const total = (f: (o: (typeof outbound)[number]) => number) =>
    outbound.reduce((n, o) => n + f(o), 0);
  return [
    "  Network:",
    `    ${"Outbound requests:".padEnd(19)}${total((o) => o.opened)}`,
    `    ${"Slot timeouts:".padEnd(19)}${total((o) => o.timeouts)}`,
    `    ${"Provider clients:".padEnd(19)}${total((o) => o.clients)}`,
    ...outbound.map((o) =>
      `      ${o.providerId}: ${o.clients} (open ${o.open}/${o.max}, waiting ${o.waiting}, ` +
      `in flight ${o.inFlight})`
    ),
  ];
}

/** Renders the snapshot as the compact human summary. */
export function formatRuntime(s: RuntimeSnapshot, now = Date.now()): string {
  const lag = s.eventLoop;
  const lines = [
    "=== EggPool Runtime Status ===",
    "",
    row("Status", s.status === "ok" ? "healthy" : "DEGRADED"),
    ...s.problems.map((p) => `    - ${p}`),
    row("PID", s.pid),
    row("Uptime", formatUptime(s.uptimeS)),
    row("EggPool", s.versions.eggpool),
    row("Deno", `${s.versions.deno} (V8 ${s.versions.v8}, TypeScript ${s.versions.typescript})`),
    "",
    row("RSS", formatBytes(s.memory.rssBytes)),
    row(
      "Heap",
      `${formatBytes(s.memory.heapUsedBytes)} of ${formatBytes(s.memory.heapTotalBytes)}`,
    ),
    row(
      "Event-loop lag",
      lag.samples === 0
        ? "N/A (no samples yet)"
        : `avg ${formatMs(lag.meanMs)} ms (p95 ${formatMs(lag.p95Ms)}, max ${
          formatMs(lag.maxMs)
        }, ` +
          `n=${lag.samples})`,
    ),
    ...processLines(s),
    "",
    "  Background Tasks:",
    ...s.backgroundTasks.map((t) => taskLine(t, now)),
    "",
    row("DB Path", s.database.path),
    row("DB Size", formatBytes(s.database.dbBytes)),
    row("WAL Size", formatBytes(s.database.walBytes)),
    "",
    row("In-flight Requests", s.requests.inFlight),
    row("Pending Writes", s.requests.pendingWrites),
    row("Write Failures", s.requests.writeFailures),
  ];
  if (s.requests.droppedRecords > 0) lines.push(row("Dropped Records", s.requests.droppedRecords));
  if (s.outbound !== undefined) lines.push("", ...networkLines(s.outbound));
  return lines.join("\n") + "\n";
}
