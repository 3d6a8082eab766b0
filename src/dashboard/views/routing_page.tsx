/**
 * The Routing page (spec 06 §4): selection skew and decision cards, the
 * exclusion taxonomy chart, where each model's requests went, and per account
 * how often it was selected and why it was left out.
 */
import type { PageChrome } from "./types.ts";
import type { RoutingData } from "../pages_a_data.ts";
import { formatCount, formatShare } from "./_format.ts";
import { Layout } from "./layout.tsx";
import { PeriodSelector } from "./components/period_selector.tsx";
import { BarChart } from "./components/bar_chart.tsx";
import { DataTable } from "./components/data_table.tsx";
import { EmptyNote, NO_TRAFFIC, StatCards } from "./components/page_bits.tsx";

/** Props of {@linkcode RoutingPage}. */
export interface RoutingPageProps extends RoutingData {
  chrome: PageChrome;
}

/**
 * Exclusions that keep an account out on evidence or the operator's word
 * (spec 06 §4's suppressive list, in the reasons EggPool records); the rest
 * (`attempted`: already tried for this request) only steer one request.
 */
const SUPPRESSIVE = new Set([
  "auth_failed",
  "authentication_failed",
  "quota_exhausted",
  "rate_limited",
  "model_unavailable",
  "disabled",
  "operator_disabled",
  "account_disabled",
  "no_key",
  "not_serving",
  "protocol_mismatch",
  "circuit_open",
  "cooling_down",
  "hard_cap",
]);

/** Whether an exclusion reason is suppressive. */
export function isSuppressive(reason: string | null): boolean {
  return reason !== null && SUPPRESSIVE.has(reason);
}

function taxonomy(rows: RoutingData["exclusions"]) {
  const byReason = new Map<string, number>();
  for (const r of rows) {
    const k = r.reason ?? "unknown";
    byReason.set(k, (byReason.get(k) ?? 0) + r.exclusions);
  }
  const labels = [...byReason.keys()].sort((a, b) => byReason.get(b)! - byReason.get(a)!);
  return {
    labels,
    suppressive: labels.map((l) => (isSuppressive(l) ? byReason.get(l)! : 0)),
    advisory: labels.map((l) => (isSuppressive(l) ? 0 : byReason.get(l)!)),
    caption: labels.map((l) => `${l} ${formatCount(byReason.get(l)!)}`).join(" · "),
  };
}

/** Cards, the taxonomy chart, then the tables. */
export function RoutingPage(props: RoutingPageProps) {
  const { chrome, skew, decisions } = props;
  const t = taxonomy(props.exclusions);
  const cards = [{
    id: "skew",
    label: "Selection skew",
    value: skew.max_min_ratio === null ? "—" : `${skew.max_min_ratio}×`,
    detail: skew.most_selected === null
      ? "no selections"
      : `most ${skew.most_selected} (${
        formatCount(skew.max_selections)
      }) · least ${skew.least_selected} (${formatCount(skew.min_selections)})`,
    tooltip: "Selections of the most selected enabled account over the least selected; " +
      "— when one was never selected",
  }, {
    id: "decisions",
    label: "Routing decisions",
    value: formatCount(decisions.decisions),
    detail: `${formatCount(skew.total_selections)} selections`,
    tooltip: "Decisions stored with the period's requests, one per upstream attempt",
  }, {
    id: "avg_eligible",
    label: "Avg eligible/decision",
    value: decisions.avg_eligible === null ? "—" : decisions.avg_eligible.toFixed(2),
    detail: `over ${formatCount(skew.accounts)} enabled accounts`,
    tooltip: "Accounts that could serve the request, on average per decision",
  }, {
    id: "distinct_selected",
    label: "Distinct selected accounts",
    value: formatCount(props.selections.length),
    detail: `${formatCount(props.exclusions.reduce((s, r) => s + r.exclusions, 0))} exclusions`,
    tooltip: "Accounts routing chose at least once in the period",
  }];
  return (
    <Layout chrome={chrome}>
      <h1>Routing</h1>
      <div class="filter-bar">
        <PeriodSelector chrome={chrome} />
      </div>
      <StatCards cards={cards} label="Routing" />
      <BarChart
        id="exclusion-taxonomy"
        title="Exclusion taxonomy"
        labels={t.labels}
        datasets={[
          { label: "Suppressive", tone: "error", values: t.suppressive },
          { label: "Advisory", tone: "warning", values: t.advisory },
        ]}
        empty="No account was left out of a decision in this period: every account was eligible."
        caption={t.caption}
      />
      <h2>Routing distribution</h2>
      {props.distribution.length === 0
        ? <EmptyNote>No routed requests in this period. {NO_TRAFFIC}</EmptyNote>
        : (
          <DataTable
            label="Requests per model and provider"
            rows={props.distribution}
            rowKey={(r) => `${r.model_id}/${r.provider_id}`}
            columns={[
              { label: "Model", cell: (r) => r.model_id },
              { label: "Provider", cell: (r) => r.provider_id },
              { label: "Requests", num: true, cell: (r) => formatCount(r.requests) },
              {
                label: "Share of model",
                num: true,
                cell: (r) => formatShare(r.share_of_model ?? undefined),
              },
              {
                label: "Successful",
                num: true,
                priority: 2,
                cell: (r) => formatCount(r.successful),
              },
              {
                label: "Failed over",
                num: true,
                priority: 2,
                cell: (r) => formatCount(r.failed_over),
              },
            ]}
          />
        )}
      <h2>Account selection breakdown</h2>
      {props.selections.length === 0
        ? <EmptyNote>No account was selected in this period. {NO_TRAFFIC}</EmptyNote>
        : (
          <DataTable
            label="Selections per account"
            rows={props.selections}
            rowKey={(r) => r.account_name ?? "?"}
            columns={[
              { label: "Account", cell: (r) => r.account_name ?? "(removed)" },
              { label: "Provider", priority: 2, cell: (r) => r.provider_id ?? "—" },
              { label: "Selections", num: true, cell: (r) => formatCount(r.selections) },
              { label: "Share", num: true, cell: (r) => formatShare(r.share ?? undefined) },
              {
                label: "First choice",
                num: true,
                priority: 2,
                cell: (r) => formatCount(r.first_choice),
              },
              {
                label: "After failover",
                num: true,
                priority: 2,
                cell: (r) => formatCount(r.after_failover),
              },
            ]}
          />
        )}
      <h2>Account exclusions</h2>
      {props.exclusions.length === 0
        ? <EmptyNote>No exclusions in this period.</EmptyNote>
        : (
          <DataTable
            label="Exclusions per account and reason"
            rows={props.exclusions}
            rowKey={(r) => `${r.account_name}/${r.reason}`}
            columns={[
              { label: "Account", cell: (r) => r.account_name ?? "(removed)" },
              { label: "Reason", cell: (r) => r.reason ?? "—" },
              {
                label: "Kind",
                priority: 2,
                cell: (r) => (isSuppressive(r.reason) ? "suppressive" : "advisory"),
              },
              { label: "Exclusions", num: true, cell: (r) => formatCount(r.exclusions) },
              { label: "Requests", num: true, priority: 2, cell: (r) => formatCount(r.requests) },
              { label: "Provider", priority: 3, cell: (r) => r.provider_id ?? "—" },
            ]}
          />
        )}
    </Layout>
  );
}
