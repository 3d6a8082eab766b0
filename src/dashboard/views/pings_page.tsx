/**
 * The Pings page (spec 06 §4): each provider's model-list fetches as latency
 * pings (one card per provider) and the latest 50. A failed ping's error
 * text is never shown, only its status.
 */
import type { PageChrome } from "./types.ts";
import type { PingsData } from "../pages_a_data.ts";
import { formatCount, formatMs, formatShare } from "./_format.ts";
import { Layout } from "./layout.tsx";
import { PeriodSelector } from "./components/period_selector.tsx";
import { DataTable } from "./components/data_table.tsx";
import { EmptyNote, isoTime, share, StatCards, Tag } from "./components/page_bits.tsx";

/** Props of {@linkcode PingsPage}. */
export interface PingsPageProps extends PingsData {
  chrome: PageChrome;
}

type PingRow = PingsData["recent"][number];

function Status({ row }: { row: PingRow }) {
  if (row.ok) return <Tag text={String(row.status_code)} tone="success" tip="Model list fetched" />;
  if (row.status_code === null) {
    return (
      <Tag text="no answer" tone="error" tip="The provider did not answer (network or timeout)" />
    );
  }
  return (
    <Tag text={String(row.status_code)} tone="error" tip="The provider answered with an error" />
  );
}

/** Provider cards, then the recent pings. */
export function PingsPage(props: PingsPageProps) {
  const { chrome } = props;
  const lastCount = new Map<string, number | null>();
  for (const r of props.recent) {
    if (!lastCount.has(r.provider_id) && r.model_count !== null) {
      lastCount.set(r.provider_id, r.model_count);
    }
  }
  const cards = props.summary.map((s) => ({
    id: `ping-${s.provider_id}`,
    label: s.provider_id,
    value: formatMs(s.avg_latency_ms ?? undefined),
    detail: `success ${formatShare(share(s.ok, s.pings))} of ${formatCount(s.pings)} · models ${
      lastCount.get(s.provider_id) ?? "—"
    }`,
    tooltip: "Average model-list latency, share of pings that succeeded, last model count",
    warn: s.failed > 0,
  }));
  return (
    <Layout chrome={chrome}>
      <h1>Pings</h1>
      <div class="filter-bar">
        <PeriodSelector chrome={chrome} />
      </div>
      {props.summary.length === 0
        ? (
          <EmptyNote>
            No pings in this period. EggPool pings a provider when it fetches the provider's model
            list (at startup and on <code>eggpool rehash</code>); providers with{" "}
            <code>models_endpoint</code> disabled are never pinged.
          </EmptyNote>
        )
        : <StatCards cards={cards} label="Pings by provider" />}
      <h2>Recent pings</h2>
      {props.recent.length > 0 && (
        <DataTable
          label="Recent pings"
          rows={props.recent}
          rowKey={(r) => String(r.id)}
          columns={[
            { label: "Provider", cell: (r) => r.provider_id },
            { label: "Time", cell: (r) => isoTime(r.probed_at) },
            { label: "Latency", num: true, cell: (r) => formatMs(r.latency_ms ?? undefined) },
            { label: "Status", cell: (r) => <Status row={r} /> },
            { label: "Account", priority: 2, cell: (r) => r.account_name ?? "—" },
            {
              label: "Models",
              num: true,
              priority: 2,
              cell: (r) => (r.model_count === null ? "—" : formatCount(r.model_count)),
            },
            {
              label: "Error",
              priority: 3,
              tip: "The error text is not shown; the status says what happened",
              cell: (
                r,
              ) => (r.ok ? "—" : r.status_code === null ? "no answer" : `HTTP ${r.status_code}`),
            },
          ]}
        />
      )}
    </Layout>
  );
}
