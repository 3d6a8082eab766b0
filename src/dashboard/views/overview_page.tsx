/**
 * The Overview page (spec 06 §4): period totals, system health and panels.
 * The requests chart is not drawn yet: Chart.js cannot be embedded from its
 * npm package (see ARCHITECTURE.md); `/api/timeseries` serves its data.
 */
import type { OverviewPageProps } from "./types.ts";
import { Layout } from "./layout.tsx";
import { PeriodSelector } from "./components/period_selector.tsx";
import { CardGrid, overviewCards, SystemHealth } from "./components/overview_cards.tsx";
import { AccountBreakdown, RecentEvents, TopModels } from "./components/overview_panels.tsx";

/** Cards first, then the panels. */
export function OverviewPage(props: OverviewPageProps) {
  const { chrome } = props;
  const cards = overviewCards(props.figures);
  return (
    <Layout chrome={chrome}>
      <h1>Overview</h1>
      <div class="filter-bar">
        <PeriodSelector chrome={chrome} />
      </div>
      <SystemHealth pending={props.pending} />
      <CardGrid cards={cards.slice(0, 3)} label="Requests and cost" />
      <CardGrid cards={cards.slice(3)} label="Tokens and speed" />
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
    </Layout>
  );
}
