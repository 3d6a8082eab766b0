/**
 * The Runtime page's process-count warning, outbound clients and config
 * (reload) diagnostics (spec 06 §4), from `ops/runtime_diagnostics.ts`.
 */
import { FactList } from "../components/page_bits.tsx";
import type {
  ConfigCheck,
  ProviderOutbound,
  RuntimeDiagnosticsView,
} from "../../../ops/runtime_diagnostics.ts";
import type { ServerProcesses } from "../../../ops/server_processes.ts";
import { formatCount, formatTime } from "../_format.ts";

/** The warning above the cards when another server uses the same database. */
export function ProcessWarning({ p }: { p: ServerProcesses }) {
  if (p.observed === undefined || p.observed <= p.expected) return null;
  return (
    <section class="card stat-card warning" id="runtime-process-warning" role="alert">
      <h3>Process count exceeds expected</h3>
      <p>
        {p.observed} EggPool servers have this database open (expected{" "}
        {p.expected}): this one and PID{" "}
        {p.others.join(", ")}. Each keeps its own quota windows, backoffs and pins, so routing and
        the stats of both are off. Stop the extra server (<code>kill {p.others[0]}</code>, or{" "}
        <code>eggpool stop</code> with its PID file).
      </p>
    </section>
  );
}

/** The value and detail of the "EggPool processes" card. */
export function processCard(p: ServerProcesses): { value: string; detail: string } {
  if (p.observed === undefined) {
    return { value: "n/a", detail: "not readable on this system" };
  }
  return {
    value: formatCount(p.observed),
    detail: `serving this database · expected ${p.expected}`,
  };
}

function OutboundRow({ o }: { o: ProviderOutbound }) {
  const busy = o.max > 0 && o.open >= o.max;
  return (
    <tr data-provider={o.providerId}>
      <td data-col="Provider">{o.providerId}</td>
      <td class="num" data-col="In flight">{formatCount(o.inFlight)}</td>
      <td class="num" data-col="Open calls">
        <span class={busy ? "tag warning" : undefined}>
          {formatCount(o.open)} / {formatCount(o.max)}
        </span>
      </td>
      <td class="num p2" data-col="Waiting">{formatCount(o.waiting)}</td>
      <td class="num p2" data-col="Calls since start">{formatCount(o.opened)}</td>
      <td class="num p3" data-col="Slot timeouts">{formatCount(o.timeouts)}</td>
      <td class="num p2" data-col="HTTP clients">{formatCount(o.clients)}</td>
      <td class="num p3" data-col="Via proxy">
        {formatCount(o.proxiedAccounts)} of {formatCount(o.accounts)}
      </td>
    </tr>
  );
}

const OUTBOUND_HEADERS: readonly [string, string, string][] = [
  ["Provider", "", ""],
  ["In flight", "num", "Requests in flight on the provider's accounts now"],
  ["Open calls", "num", "Upstream calls open now / the provider's max_connections"],
  ["Waiting", "num p2", "Calls waiting for a free connection slot now"],
  ["Calls since start", "num p2", "Upstream calls opened since the server started"],
  ["Slot timeouts", "num p3", "Waits for a slot that gave up after pool_timeout_s"],
  [
    "HTTP clients",
    "num p2",
    "Outbound HTTP clients: one shared keep-alive pool, plus one per account with a proxy",
  ],
  ["Via proxy", "num p3", "Accounts reaching the provider through their own outbound proxy"],
];

/** Per provider: clients, slots and requests in flight. */
export function OutboundTable({ rows }: { rows: readonly ProviderOutbound[] }) {
  if (rows.length === 0) return <p class="muted">No providers configured.</p>;
  return (
    <div class="table-wrap">
      <table id="runtime-outbound">
        <thead>
          <tr>
            {OUTBOUND_HEADERS.map(([label, cls, tip]) => (
              <th
                key={label}
                scope="col"
                class={cls === "" ? undefined : cls}
                data-tooltip={tip === "" ? undefined : `${label}: ${tip}`}
                aria-label={tip === "" ? undefined : `${label}: ${tip}`}
                data-tooltip-pos={tip === "" ? undefined : "bottom"}
              >
                {label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((o) => <OutboundRow key={o.providerId} o={o} />)}
        </tbody>
      </table>
    </div>
  );
}

function diskText(c: ConfigCheck): string {
  switch (c.disk) {
    case "same":
      return "same as the running config";
    case "unreadable":
      return `unreadable: ${c.error ?? "unknown error"}`;
    case "changed":
      return c.valid
        ? "changed since start and valid: `eggpool rehash` applies it"
        : "changed since start and invalid: `eggpool rehash` would refuse it " +
          "and the server keeps its running config";
  }
}

/** The config the server runs against the file on disk. */
export function ConfigFacts({ c }: { c: ConfigCheck }) {
  const problem = c.disk === "unreadable" || (c.disk === "changed" && !c.valid);
  const facts: [string, string][] = [
    ["Config file", c.path],
    ["Loaded", `${formatTime(c.loadedAt)} (at start; a rehash restarts the server)`],
    ["Running digest", `${c.runningDigest.slice(0, 12)}…`],
    ["File on disk", diskText(c)],
    ...(c.disk === "changed" && c.diskDigest !== undefined
      ? [["Disk digest", `${c.diskDigest.slice(0, 12)}…`] as [string, string]]
      : []),
    ...(c.disk === "changed" && !c.valid && c.error !== undefined
      ? [["Validation error", c.error] as [string, string]]
      : []),
    ["Checked", formatTime(c.checkedAt)],
  ];
  return <FactList id="runtime-config" facts={facts} warn={problem} />;
}

/** The two sections below the database facts. */
export function DiagnosticsSections({ d }: { d: RuntimeDiagnosticsView }) {
  return (
    <>
      <h2>Outbound clients</h2>
      <OutboundTable rows={d.outbound} />
      <h2>Config and reload</h2>
      <ConfigFacts c={d.config} />
    </>
  );
}
