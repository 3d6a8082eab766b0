/**
 * The Cache page (spec 06 §4, auto-refresh): how much input the providers
 * served from their prompt caches, per account and per model, and the
 * conversations prompt-cache affinity had to move. The same figures as
 * `/api/stats/cache` over the selected period.
 */
import type { PageChrome } from "./types.ts";
import type { CacheData, CacheRowData } from "../pages_a_data.ts";
import { formatCount, formatMoves, formatShare } from "./_format.ts";
import { Layout } from "./layout.tsx";
import { PeriodSelector } from "./components/period_selector.tsx";
import { DataTable } from "./components/data_table.tsx";
import type { Column } from "./components/data_table.tsx";
import { EmptyNote, NO_TRAFFIC, share, StatCards } from "./components/page_bits.tsx";

/** Props of {@linkcode CachePage}. */
export interface CachePageProps extends CacheData {
  chrome: PageChrome;
}

function columns(first: string, affinityOn: boolean): Column<CacheRowData>[] {
  const cols: Column<CacheRowData>[] = [
    { label: first, cell: (r) => r.key },
    { label: "Requests", num: true, cell: (r) => formatCount(r.requests) },
    { label: "Input tokens", num: true, priority: 2, cell: (r) => formatCount(r.inputTokens) },
    { label: "Cache R", num: true, priority: 2, cell: (r) => formatCount(r.cacheReadTokens) },
    { label: "Cache W", num: true, priority: 3, cell: (r) => formatCount(r.cacheWriteTokens) },
    {
      label: "Cached share",
      num: true,
      tip: "Cache reads over all input (fresh, cache read, cache write)",
      cell: (r) => formatShare(r.cacheShare),
    },
  ];
  if (affinityOn) {
    cols.push({ label: "Moves", priority: 2, cell: (r) => formatMoves(r.moves) });
  }
  return cols;
}

/** Totals, then the account and model tables. */
export function CachePage(props: CachePageProps) {
  const { chrome } = props;
  const sum = (f: (r: CacheRowData) => number) => props.accounts.reduce((s, r) => s + f(r), 0);
  const input = sum((r) => r.inputTokens);
  const read = sum((r) => r.cacheReadTokens);
  const write = sum((r) => r.cacheWriteTokens);
  const moves = props.accounts.reduce(
    (s, r) => s + Object.values(r.moves).reduce((a, n) => a + n, 0),
    0,
  );
  const cards = [{
    id: "cache_hit",
    label: "Provider cache hit rate",
    value: formatShare(share(read, input)),
    detail: `${formatCount(read)} of ${formatCount(input)} input tokens`,
    tooltip: "Share of input tokens the providers read from their prompt caches",
  }, {
    id: "cache_write",
    label: "Cache writes",
    value: formatCount(write),
    detail: `${formatShare(share(write, input))} of input`,
    tooltip: "Input tokens the providers wrote to their prompt caches",
  }, {
    id: "moves",
    label: "Conversation moves",
    value: props.affinityOn ? formatCount(moves) : "off",
    detail: props.affinityOn ? "since the server started" : "[routing] affinity is off",
    tooltip: "Pinned conversations moved to another account, which loses their cache",
  }];
  return (
    <Layout chrome={chrome}>
      <h1>Cache</h1>
      <div class="filter-bar">
        <PeriodSelector chrome={chrome} />
      </div>
      <StatCards cards={cards} label="Prompt cache" />
      <h2>By account</h2>
      {props.accounts.length === 0
        ? <EmptyNote>No requests in this period. {NO_TRAFFIC}</EmptyNote>
        : (
          <DataTable
            label="Prompt cache by account"
            rows={props.accounts}
            rowKey={(r) => r.key}
            columns={columns("Account", props.affinityOn)}
          />
        )}
      <h2>By model</h2>
      {props.models.length === 0 ? <EmptyNote>No requests in this period.</EmptyNote> : (
        <DataTable
          label="Prompt cache by model"
          rows={props.models}
          rowKey={(r) => r.key}
          columns={columns("Model", props.affinityOn)}
        />
      )}
      {!props.affinityOn && (
        <p class="muted">
          Conversation affinity is off (<code>[routing] affinity = "off"</code>): later turns of a
          conversation may land on another account and miss its cache. Set{" "}
          <code>affinity = "on"</code> to keep them together.
        </p>
      )}
    </Layout>
  );
}
