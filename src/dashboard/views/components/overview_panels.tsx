/** The Overview's panels (spec 06 §4): account breakdown, top models and recent events. */
import type { EventRow, PageChrome, UsageShareRow } from "../types.ts";
import { formatCost, formatCount, formatShare, formatTime, pageHref } from "../_format.ts";

/** The busiest accounts of the period, linking to the Accounts page. */
export function AccountBreakdown(
  { chrome, rows, enabledCount, disabledCount }: {
    chrome: PageChrome;
    rows: readonly UsageShareRow[];
    enabledCount: number;
    disabledCount: number;
  },
) {
  const href = pageHref("/accounts", { period: chrome.period, theme: chrome.theme });
  return (
    <section class="panel" aria-labelledby="account-breakdown">
      <div class="panel-head">
        <h2 id="account-breakdown">
          <a href={href}>Account breakdown</a>
        </h2>
        <span class="chip">{enabledCount} enabled · {disabledCount} disabled</span>
      </div>
      {rows.length === 0
        ? <p class="muted">No requests in this period.</p>
        : <UsageTable rows={rows} first="Account" attr="data-account" />}
    </section>
  );
}

/** The most requested models of the period. */
export function TopModels({ rows }: { rows: readonly UsageShareRow[] }) {
  return (
    <section class="panel" aria-labelledby="top-models">
      <h2 id="top-models">Top models</h2>
      {rows.length === 0
        ? <p class="muted">No requests in this period.</p>
        : <UsageTable rows={rows} first="Model" attr="data-model" />}
    </section>
  );
}

function UsageTable(
  { rows, first, attr }: { rows: readonly UsageShareRow[]; first: string; attr: string },
) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">{first}</th>
            <th scope="col" class="num">Requests</th>
            <th scope="col" class="num p2">Share</th>
            <th scope="col" class="num p2">Errors</th>
            <th scope="col" class="num">Cost</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.name} {...{ [attr]: r.name }}>
              <td data-col={first}>{r.name}</td>
              <td class="num" data-col="Requests">{formatCount(r.requests)}</td>
              <td class="num p2" data-col="Share">{formatShare(r.share)}</td>
              <td class="num p2" data-col="Errors">{formatCount(r.errors)}</td>
              <td class="num" data-col="Cost">{formatCost(r.costMicros)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The last operational and account events, newest first. */
export function RecentEvents({ rows }: { rows: readonly EventRow[] }) {
  return (
    <section class="panel" aria-labelledby="recent-events">
      <h2 id="recent-events">Recent events</h2>
      {rows.length === 0 ? <p class="muted">No events yet.</p> : (
        <div class="table-wrap">
          <table class="events-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Type</th>
                <th scope="col" class="p2">Account</th>
                <th scope="col" class="p2">Details</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e, i) => (
                <tr key={i} data-event={e.eventType}>
                  <td data-col="When">{formatTime(e.occurredAt)}</td>
                  <td data-col="Type">
                    <span class="tag">{e.eventType}</span>
                  </td>
                  <td class="p2" data-col="Account">{e.account ?? "—"}</td>
                  <td class="p2 details" data-col="Details">{e.details}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
