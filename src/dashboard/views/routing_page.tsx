/**
 * The Routing page (spec 06 §4): selection skew and decision cards, the
 * trace diagnostics, the exclusion taxonomy chart, where each model's requests went, and per account
 * how often it was selected and why it was left out.
 */
import type { PageChrome } from "./types.ts";
import type { RoutingData } from "../pages_a_data.ts";
import { formatCount } from "./_format.ts";
import { Layout } from "./layout.tsx";
import { PeriodSelector } from "./components/period_selector.tsx";
import { BarChart } from "./components/bar_chart.tsx";
import { StatCards } from "./components/page_bits.tsx";
import { isSuppressive, RoutingTables } from "./components/routing_tables.tsx";
import { TranscodingSection } from "./components/transcoding_section.tsx";
import { RoutingTrace } from "./components/routing_trace.tsx";

/** Props of {@linkcode RoutingPage}. */
export interface RoutingPageProps extends RoutingData {
  chrome: PageChrome;
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
      <RoutingTrace trace={props.trace} chrome={chrome} />
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
      <RoutingTables {...props} />
      <TranscodingSection stats={props.transcoding} />
    </Layout>
  );
}
