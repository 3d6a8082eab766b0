/** The Runtime page (spec 06 §4): what `/api/stats/runtime` reports, as cards and tables. */
import { FactList } from "../components/page_bits.tsx";
import type { RuntimeSnapshot } from "../../../ops/runtime_snapshot.ts";
import type { RuntimeExtras } from "../../runtime_data.ts";
import type { PageChrome } from "../types.ts";
import { formatCount, formatMs } from "../_format.ts";
import { Layout } from "../layout.tsx";
import type { RuntimeDiagnosticsView } from "../../../ops/runtime_diagnostics.ts";
import { DiagnosticsSections, processCard, ProcessWarning } from "./runtime_diagnostics.tsx";

/** `12.3 MiB`. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) (v /= 1024, i++);
  return i === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${units[i]}`;
}

function uptime(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m ${Math.floor(s % 60)}s`;
}

function Card(
  { id, label, value, detail }: { id: string; label: string; value: string; detail: string },
) {
  return (
    <section class="card stat-card" data-card={id}>
      <h3>{label}</h3>
      <p class="card-value">{value}</p>
      <p class="card-detail muted">{detail}</p>
    </section>
  );
}

const NA = "n/a";

function fds(x: RuntimeExtras): { value: string; detail: string } {
  const { openFds, fdLimit } = x.proc;
  if (openFds === undefined) return { value: NA, detail: "not readable on this system" };
  const limit = fdLimit === undefined
    ? "limit unknown"
    : fdLimit === Infinity
    ? "no limit"
    : `of ${formatCount(fdLimit)} allowed (${(openFds / fdLimit * 100).toFixed(1)}%)`;
  return { value: formatCount(openFds), detail: limit };
}

function load(x: RuntimeExtras): { value: string; detail: string } {
  const cpus = x.proc.cpus === undefined ? "" : ` · ${x.proc.cpus} CPUs`;
  const l = x.proc.loadAverage;
  if (l === undefined) return { value: NA, detail: `not readable on this system${cpus}` };
  return {
    value: l[0].toFixed(2),
    detail: `1 / 5 / 15 min: ${l.map((v) => v.toFixed(2)).join(" / ")}${cpus}`,
  };
}

/** The cards and facts read beside the snapshot (`runtime_data.ts`). */
function ExtraCards({ x }: { x: RuntimeExtras }) {
  const d = x.dispatch;
  return (
    <>
      <Card id="open_fds" label="Open FDs" {...fds(x)} />
      <Card
        id="threads"
        label="Active threads"
        value={x.proc.threads === undefined ? NA : formatCount(x.proc.threads)}
        detail={x.proc.threads === undefined ? "not readable on this system" : "in this process"}
      />
      <Card id="load" label="Load average" {...load(x)} />
      <Card
        id="dispatch"
        label="Dispatch overhead"
        value={d === undefined ? "—" : formatMs(d.avgMs)}
        detail={d === undefined
          ? "no routed request yet"
          : `p95 ${formatMs(d.p95Ms)} · start to first upstream attempt, last ${d.samples}`}
      />
      <Card
        id="backoffs"
        label="Active backoffs"
        value={formatCount(x.activeBackoffs.count)}
        detail={`on ${formatCount(x.activeBackoffs.accounts)} account${
          x.activeBackoffs.accounts === 1 ? "" : "s"
        }`}
      />
      <Card
        id="pending"
        label="Pending requests"
        value={formatCount(x.pending.count)}
        detail={`${formatCount(x.pending.stale)} stale (over 15 min)`}
      />
    </>
  );
}

/** Props of {@linkcode RuntimePage}. */
export interface RuntimePageProps {
  chrome: PageChrome;
  snapshot?: RuntimeSnapshot;
  extras?: RuntimeExtras;
  /** Other servers on the database, outbound clients, the config file. */
  diagnostics?: RuntimeDiagnosticsView;
}

/** The page; without a snapshot source it says so. */
export function RuntimePage(
  { chrome, snapshot: s, extras: x, diagnostics: d }: RuntimePageProps,
) {
  if (s === undefined) {
    return (
      <Layout chrome={chrome}>
        <h1>Runtime</h1>
        <p class="muted">Runtime figures are not available in this server.</p>
      </Layout>
    );
  }
  return (
    <Layout chrome={chrome}>
      <h1>Runtime</h1>
      {s.problems.length > 0 && (
        <section class="card stat-card warning" id="runtime-problems">
          <h3>Degraded</h3>
          <ul>
            {s.problems.map((p) => <li key={p}>{p}</li>)}
          </ul>
        </section>
      )}
      {d !== undefined && <ProcessWarning p={d.processes} />}
      <div class="card-grid" role="group" aria-label="Process">
        <Card id="pid" label="Server PID" value={String(s.pid)} detail={`status ${s.status}`} />
        <Card
          id="uptime"
          label="Uptime"
          value={uptime(s.uptimeS)}
          detail={`since ${s.startedAt}`}
        />
        <Card
          id="runtime"
          label="Runtime version"
          value={`Deno ${s.versions.deno}`}
          detail={`EggPool ${s.versions.eggpool} · V8 ${s.versions.v8}`}
        />
        <Card
          id="rss"
          label="RSS"
          value={formatBytes(s.memory.rssBytes)}
          detail={`heap ${formatBytes(s.memory.heapUsedBytes)} of ${
            formatBytes(s.memory.heapTotalBytes)
          }`}
        />
        <Card
          id="lag"
          label="Event-loop lag"
          value={formatMs(s.eventLoop.meanMs)}
          detail={`max ${formatMs(s.eventLoop.maxMs)}`}
        />
        <Card
          id="in_flight"
          label="In-flight"
          value={formatCount(s.requests.inFlight)}
          detail={`${formatCount(s.requests.pendingWrites)} stats writes pending`}
        />
        {d !== undefined && (
          <Card id="processes" label="EggPool processes" {...processCard(d.processes)} />
        )}
        {x !== undefined && <ExtraCards x={x} />}
      </div>
      <h2>Background tasks</h2>
      <div class="table-wrap">
        <table id="runtime-tasks">
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">State</th>
              <th scope="col" class="num">Runs</th>
              <th scope="col" class="num p2">Failures</th>
              <th scope="col" class="p2">Last run</th>
              <th scope="col" class="p3">Last error</th>
            </tr>
          </thead>
          <tbody>
            {s.backgroundTasks.map((t) => (
              <tr key={t.name} data-task={t.name}>
                <td data-col="Task">{t.name}</td>
                <td data-col="State">
                  <span
                    class={t.state === "failing"
                      ? "tag error"
                      : t.state === "ok"
                      ? "tag success"
                      : "tag"}
                  >
                    {t.state}
                  </span>
                </td>
                <td class="num" data-col="Runs">{formatCount(t.runs)}</td>
                <td class="num p2" data-col="Failures">{formatCount(t.failures)}</td>
                <td class="p2" data-col="Last run">{t.lastRunAt ?? "—"}</td>
                <td class="p3" data-col="Last error">{t.lastError ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Database and stats writes</h2>
      <FactList
        id="runtime-db"
        facts={[
          ["Path", s.database.path],
          ["Database", formatBytes(s.database.dbBytes)],
          ["WAL", formatBytes(s.database.walBytes)],
          ...(x === undefined ? [] : [
            ["Journal mode", x.journalMode],
            ["Sync", x.synchronous],
          ] as const),
          ["Pending writes", formatCount(s.requests.pendingWrites)],
          ["Write failures", formatCount(s.requests.writeFailures)],
          ["Dropped records", formatCount(s.requests.droppedRecords)],
          ["Last flush", s.requests.lastFlushAt ?? "—"],
          ["Ready", s.readiness.ok ? "yes" : `no: ${s.readiness.reason ?? "unknown"}`],
        ]}
      />
      {d !== undefined && <DiagnosticsSections d={d} />}
    </Layout>
  );
}
