/**
 * The Latency page (spec 06 §4): time to first byte per provider and per
 * model (streamed requests only), and where a completed request's time went.
 */
import type { PageChrome } from "./types.ts";
import type { LatencyData } from "../pages_a_data.ts";
import { formatCount, formatMs } from "./_format.ts";
import { Layout } from "./layout.tsx";
import { PeriodSelector } from "./components/period_selector.tsx";
import { DataTable } from "./components/data_table.tsx";
import type { Column } from "./components/data_table.tsx";
import { EmptyNote, NO_TRAFFIC, StatCards } from "./components/page_bits.tsx";

/** Props of {@linkcode LatencyPage}. */
export interface LatencyPageProps extends LatencyData {
  chrome: PageChrome;
}

interface TtftRow {
  streamed_requests: number;
  avg_ttft_ms: number | null;
  p50_ttft_ms: number | null;
  p95_ttft_ms: number | null;
  p99_ttft_ms: number | null;
}

function ms(v: number | null): string {
  return formatMs(v ?? undefined);
}

function ttftColumns<R extends TtftRow>(): Column<R>[] {
  return [
    {
      label: "Requests",
      num: true,
      tip: "Streamed requests",
      cell: (r) => formatCount(r.streamed_requests),
    },
    { label: "Avg TTFT", num: true, cell: (r) => ms(r.avg_ttft_ms) },
    { label: "P50 TTFT", num: true, priority: 2, cell: (r) => ms(r.p50_ttft_ms) },
    { label: "P95 TTFT", num: true, priority: 3, cell: (r) => ms(r.p95_ttft_ms) },
    { label: "P99 TTFT", num: true, priority: 2, cell: (r) => ms(r.p99_ttft_ms) },
  ];
}

/** Phase cards, then TTFT per provider and per model. */
export function LatencyPage(props: LatencyPageProps) {
  const { chrome, phases: ph } = props;
  const cards = [{
    id: "overhead",
    label: "EggPool overhead",
    value: ms(ph.coordinator_overhead_ms),
    detail: "body read, model lookup, routing",
    tooltip: "EggPool's own time before the first upstream call",
  }, {
    id: "connect",
    label: "Connect",
    value: ms(ph.upstream_connect_ms),
    detail: "not recorded",
    tooltip: "The TCP and TLS connect to the upstream is not timed on its own; it is part of wait",
  }, {
    id: "wait",
    label: "Upstream wait",
    value: ms(ph.upstream_wait_ms),
    detail: "first call to first byte",
    tooltip: "From the first upstream call to the first byte of the answer",
  }, {
    id: "read",
    label: "Upstream read",
    value: ms(ph.upstream_read_ms),
    detail: "first to last byte",
    tooltip: "From the first to the last byte of the answer",
  }, {
    id: "latency",
    label: "Avg latency",
    value: ms(ph.avg_latency_ms),
    detail: `over ${formatCount(ph.completed_requests)} completed requests`,
    tooltip: "Average total time of completed requests",
  }];
  return (
    <Layout chrome={chrome}>
      <h1>Latency</h1>
      <div class="filter-bar">
        <PeriodSelector chrome={chrome} />
      </div>
      <h2>Phase split</h2>
      <StatCards cards={cards} label="Phase split" />
      {ph.completed_requests === 0 && (
        <EmptyNote>No completed requests in this period. {NO_TRAFFIC}</EmptyNote>
      )}
      <h2>Time to first byte by provider</h2>
      {props.provider_ttft.length === 0
        ? (
          <EmptyNote>
            No streamed requests in this period: TTFT is measured on streamed answers (<code>
              "stream": true
            </code>).
          </EmptyNote>
        )
        : (
          <DataTable
            label="TTFT by provider"
            rows={props.provider_ttft}
            rowKey={(r) => r.provider_id}
            columns={[{ label: "Provider", cell: (r) => r.provider_id }, ...ttftColumns()]}
          />
        )}
      <h2>By model</h2>
      {props.model_ttft.length === 0
        ? <EmptyNote>No streamed requests in this period.</EmptyNote>
        : (
          <DataTable
            label="TTFT by model"
            rows={props.model_ttft}
            rowKey={(r) => `${r.provider_id}/${r.model_id}`}
            columns={[
              { label: "Model", cell: (r) => r.model_id },
              { label: "Provider", priority: 2, cell: (r) => r.provider_id },
              ...ttftColumns(),
            ]}
          />
        )}
    </Layout>
  );
}
