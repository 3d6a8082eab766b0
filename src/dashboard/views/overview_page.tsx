/**
 * The Overview page (spec 06 §4): period totals, system health, the requests
 * chart, panels and the 180-day token heatmap. Everything is server-drawn;
 * Chart.js redraws the chart when scripts run.
 */
import type { OverviewPageProps } from "./types.ts";
import { Layout } from "./layout.tsx";
import { PeriodSelector } from "./components/period_selector.tsx";
import { CardGrid, overviewCards, SystemHealth } from "./components/overview_cards.tsx";
import { AccountBreakdown, RecentEvents, TopModels } from "./components/overview_panels.tsx";
import { RequestsChart } from "./components/requests_chart.tsx";
import { Heatmap } from "./components/heatmap.tsx";

/** Cards first, then the panels. */
export function OverviewPage(props: OverviewPageProps) {
  const { chrome } = props;
  const cards = overviewCards(props.figures, props.outcomes);
  return (
    <Layout chrome={chrome}>
      <h1>Overview</h1>
      <div class="filter-bar">
        <PeriodSelector chrome={chrome} />
      </div>
      <SystemHealth pending={props.pending} />
      <CardGrid cards={cards.slice(0, 3)} label="Requests and cost" />
      <CardGrid cards={cards.slice(3)} label="Tokens and speed" />
      <RequestsChart series={props.series} />
      <div class="panel-grid">
        <AccountBreakdown
          chrome={chrome}
          rows={props.accounts}
          enabledCount={props.enabledCount}
          disabledCount={props.disabledCount}
        />
        <TopModels rows={props.models} />
      </div>
      <RecentEvents rows={props.events} />
      <Heatmap
        id="token-heatmap"
        title="Token activity (last 180 days)"
        view={props.heatmap}
        unit="tokens"
      />
    </Layout>
  );
}
