/**
 * The Reliability page (spec 06 §4): attempt cards, the attempts-by-provider
 * chart, failed attempts by retry category, pending requests and the
 * process's operational events.
 */
import type { PageChrome } from "./types.ts";
import type { ReliabilityData } from "../pages_a_data.ts";
import { formatCount, formatMs, formatShare } from "./_format.ts";
import { Layout } from "./layout.tsx";
import { PeriodSelector } from "./components/period_selector.tsx";
import { BarChart } from "./components/bar_chart.tsx";
import { DataTable } from "./components/data_table.tsx";
import {
  detailText,
  EmptyNote,
  formatAge,
  isoTime,
  NO_TRAFFIC,
  share,
  StatCards,
} from "./components/page_bits.tsx";

/** Props of {@linkcode ReliabilityPage}. */
export interface ReliabilityPageProps extends ReliabilityData {
  chrome: PageChrome;
}

/** Cards, chart, then the tables. */
export function ReliabilityPage(props: ReliabilityPageProps) {
  const { chrome, attempts: a, pending } = props;
  const cards = [{
    id: "total_attempts",
    label: "Total attempts",
    value: formatCount(a.total_attempts),
    detail: `for ${formatCount(a.requests_with_attempts)} requests · p95 ${
      formatMs(a.p95_latency_ms ?? undefined)
    }`,
    tooltip: "Upstream calls made for the period's requests, failovers included",
  }, {
    id: "successful_attempts",
    label: "Success",
    value: formatCount(a.successful_attempts),
    detail: `${formatShare(share(a.successful_attempts, a.total_attempts))} of attempts`,
    tooltip: "Attempts an upstream answered without an error",
  }, {
    id: "retries",
    label: "Retry",
    value: formatCount(a.retries),
    detail: `${formatCount(a.retried_requests)} requests retried · rate ${
      formatShare(a.retry_rate ?? undefined)
    }`,
    tooltip: "Attempts beyond each request's first: failovers to another account",
  }, {
    id: "failed_attempts",
    label: "Failed",
    value: formatCount(a.failed_attempts),
    detail: `${formatShare(share(a.failed_attempts, a.total_attempts))} of attempts`,
    tooltip: "Attempts that ended in an upstream error, a timeout or a disconnect",
    warn: a.failed_attempts > 0,
  }];
  return (
    <Layout chrome={chrome}>
      <h1>Reliability</h1>
      <div class="filter-bar">
        <PeriodSelector chrome={chrome} />
      </div>
      <StatCards cards={cards} label="Attempts" />
      <BarChart
        id="attempts-by-provider"
        title="Attempts by provider"
        labels={props.byProvider.map((r) => r.providerId)}
        datasets={[
          { label: "Success", tone: "success", values: props.byProvider.map((r) => r.ok) },
          { label: "Failed", tone: "error", values: props.byProvider.map((r) => r.failed) },
        ]}
        empty={`No upstream attempts in this period. ${NO_TRAFFIC}`}
        caption={props.byProvider.map((r) =>
          `${r.providerId}: ${formatCount(r.ok)} ok, ${formatCount(r.failed)} failed`
        ).join(" · ")}
      />
      <h2>Retry distribution</h2>
      {props.retries.length === 0
        ? <EmptyNote>No failed attempts in this period: nothing needed a retry.</EmptyNote>
        : (
          <DataTable
            label="Failed attempts by retry category"
            rows={props.retries}
            rowKey={(r) => r.retry_category ?? "none"}
            columns={[
              { label: "Category", cell: (r) => r.label },
              { label: "Failed attempts", num: true, cell: (r) => formatCount(r.failed_attempts) },
              { label: "Requests", num: true, priority: 2, cell: (r) => formatCount(r.requests) },
              { label: "Accounts", num: true, priority: 2, cell: (r) => formatCount(r.accounts) },
              { label: "Recorded as", priority: 3, cell: (r) => r.retry_category ?? "—" },
            ]}
          />
        )}
      <h2>Pending requests</h2>
      <DataTable
        label="Pending requests"
        rows={[pending]}
        rowKey={() => "pending"}
        columns={[
          { label: "Pending", num: true, cell: (r) => formatCount(r.pending_count) },
          {
            label: "Oldest",
            num: true,
            cell: (r) =>
              r.oldest_pending_age_seconds === null ? "—" : formatAge(r.oldest_pending_age_seconds),
          },
          {
            label: "Stale",
            num: true,
            tip: `Pending longer than ${pending.stale_after_seconds} s`,
            cell: (r) => formatCount(r.stale_pending),
          },
        ]}
      />
      <h2>Operational events</h2>
      {props.operational.recent.length === 0
        ? (
          <EmptyNote>
            No process events in this period (crash recoveries, stale-request clean-ups).
          </EmptyNote>
        )
        : (
          <DataTable
            label="Operational events"
            rows={props.operational.recent}
            rowKey={(r) => String(r.id)}
            columns={[
              { label: "When", cell: (r) => isoTime(r.created_at) },
              { label: "Type", cell: (r) => <span class="tag">{r.event_type}</span> },
              { label: "Details", priority: 2, cell: (r) => detailText(r.details) },
            ]}
          />
        )}
    </Layout>
  );
}
