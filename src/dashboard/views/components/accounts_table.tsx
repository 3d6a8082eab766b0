/** The Accounts table (spec 06 §4) with prompt-cache columns (issue #5). */
import type { ComponentChild } from "preact";
import type { AccountRow } from "../types.ts";
import {
  formatCost,
  formatCount,
  formatMoves,
  formatMs,
  formatShare,
  formatTime,
} from "../_format.ts";
import { StatusBadge } from "./status_badge.tsx";
import { WindowUseCell } from "./window_use.tsx";
import { formatBytes } from "../pages_b/runtime_page.tsx";

interface Column {
  label: string;
  /** Responsive priority: 2 and 3 hide on narrow screens. */
  priority: 1 | 2 | 3;
  numeric?: boolean;
  tip?: string;
  cell(row: AccountRow): ComponentChild;
}

function backoffUntil(row: AccountRow): string {
  if (row.backoffUntil === undefined) return "—";
  return row.backoffUntil === null ? "until the key changes" : formatTime(row.backoffUntil);
}

function enabledText(row: AccountRow): string {
  if (!row.configured) return "removed";
  return row.enabled ? "yes" : "no";
}

const COLUMNS: readonly Column[] = [
  { label: "Account", priority: 1, cell: (r) => r.name },
  { label: "Provider", priority: 1, cell: (r) => r.providerId },
  { label: "Enabled", priority: 1, cell: enabledText },
  { label: "Requests", priority: 1, numeric: true, cell: (r) => formatCount(r.requests) },
  { label: "Cost", priority: 1, numeric: true, cell: (r) => formatCost(r.costMicros) },
  {
    label: "Health",
    priority: 2,
    cell: (r) => (
      <>
        <StatusBadge state={r.health} />
        {r.healthNote === undefined ? null : (
          <>
            {" "}
            <small class="health-note">{r.healthNote}</small>
          </>
        )}
      </>
    ),
  },
  {
    label: "Errors",
    priority: 2,
    numeric: true,
    tip: "Requests that ended in an error on this account",
    cell: (r) => formatCount(r.errors),
  },
  {
    label: "Failed attempts",
    priority: 2,
    numeric: true,
    tip:
      "Upstream attempts that failed on this account, including those another account then served",
    cell: (r) => formatCount(r.failedAttempts),
  },
  {
    label: "Input tokens",
    priority: 2,
    numeric: true,
    tip: "All input: fresh, cache read and cache write",
    cell: (r) => formatCount(r.inputTokens),
  },
  { label: "Output tokens", priority: 2, numeric: true, cell: (r) => formatCount(r.outputTokens) },
  {
    label: "Cached share",
    priority: 2,
    numeric: true,
    tip: "Share of input tokens served from the provider's prompt cache",
    cell: (r) => formatShare(r.cacheShare),
  },
  {
    label: "Moves",
    priority: 2,
    tip: "Conversations moved away from this account since the server started, by reason",
    cell: (r) => formatMoves(r.moves),
  },
  {
    label: "Live pins",
    priority: 3,
    numeric: true,
    tip: "Conversations pinned to this account now",
    cell: (r) => formatCount(r.livePins),
  },
  { label: "Avg latency", priority: 2, numeric: true, cell: (r) => formatMs(r.avgLatencyMs) },
  {
    label: "TPS",
    priority: 2,
    numeric: true,
    tip: "Output tokens per second of request time",
    cell: (r) => (r.tokensPerSecond === undefined ? "—" : r.tokensPerSecond.toFixed(1)),
  },
  {
    label: "Reserved",
    priority: 3,
    numeric: true,
    tip: "Tokens reserved now by this account's requests in flight " +
      "(each reserves its body bytes / 3, within 1,000–128,000), counted by the scorer",
    cell: (r) => (r.reservedTokens === undefined ? "—" : formatCount(r.reservedTokens)),
  },
  {
    label: "Reservations",
    priority: 3,
    numeric: true,
    tip: "Requests in flight on this account now, each holding one reservation",
    cell: (r) => (r.reservations === undefined ? "—" : formatCount(r.reservations)),
  },
  ...(["5h", "7d", "30d"] as const).map((w, i): Column => ({
    label: `${w} util.`,
    priority: 3,
    numeric: true,
    tip: `Highest of requests, tokens and spend in the last ${w} against the account's ` +
      "capacity × weight (spend against its [limits] budget)",
    cell: (r) => <WindowUseCell name={w} use={r.windows[i]} />,
  })),
  {
    label: "BW received",
    priority: 3,
    numeric: true,
    tip: "Request bytes received from clients for this account in the period",
    cell: (r) => formatBytes(r.bytesIn),
  },
  {
    label: "BW emitted",
    priority: 3,
    numeric: true,
    tip: "Response bytes emitted to clients for this account in the period",
    cell: (r) => formatBytes(r.bytesOut),
  },
  { label: "Backoff", priority: 3, cell: (r) => r.backoffReason ?? "—" },
  { label: "Backoff until", priority: 3, cell: backoffUntil },
  { label: "Failures", priority: 3, numeric: true, cell: (r) => formatCount(r.failures) },
  { label: "Cache R", priority: 3, numeric: true, cell: (r) => formatCount(r.cacheReadTokens) },
  { label: "Cache W", priority: 3, numeric: true, cell: (r) => formatCount(r.cacheWriteTokens) },
  {
    label: "Reasoning",
    priority: 3,
    numeric: true,
    tip: "Output tokens the provider counted as reasoning",
    cell: (r) => formatCount(r.reasoningTokens),
  },
  {
    label: "Est. cost",
    priority: 3,
    numeric: true,
    tip: "The part of the cost priced by estimate (no provider-reported or exact price)",
    cell: (r) => (r.estimatedCostMicros === undefined ? "—" : formatCost(r.estimatedCostMicros)),
  },
  {
    label: "Avg cost/req",
    priority: 3,
    numeric: true,
    cell: (r) => (r.requests === 0 ? "—" : formatCost(r.costMicros / r.requests)),
  },
];

/** Header tooltip and accessible name: the label, then what it means. */
function headerTip(c: Column): string | undefined {
  return c.tip === undefined ? undefined : `${c.label}: ${c.tip}`;
}

function cellClass(c: Column): string | undefined {
  const parts = [c.priority > 1 ? `p${c.priority}` : "", c.numeric ? "num" : ""].filter(Boolean);
  return parts.length === 0 ? undefined : parts.join(" ");
}

/** One row per account; `affinity` off hides the pin and move columns. */
export function AccountsTable(
  { rows, affinityOn }: { rows: readonly AccountRow[]; affinityOn: boolean },
) {
  const columns = affinityOn
    ? COLUMNS
    : COLUMNS.filter((c) => c.label !== "Moves" && c.label !== "Live pins");
  return (
    <div class="table-wrap">
      <table class="accounts-table">
        <thead>
          <tr>
            {columns.map((c) => (
              <th
                key={c.label}
                class={cellClass(c)}
                scope="col"
                data-tooltip={headerTip(c)}
                aria-label={headerTip(c)}
                data-tooltip-pos={c.tip === undefined ? undefined : "bottom"}
              >
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.name} data-account={row.name}>
              {columns.map((c) => (
                <td key={c.label} class={cellClass(c)} data-col={c.label}>{c.cell(row)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
