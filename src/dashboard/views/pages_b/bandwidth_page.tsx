/**
 * The Bandwidth page (spec 06 §4): bytes received from clients and emitted to
 * them in the period, per day, and the 180-day heatmap of both together.
 */
import type { HeatmapView, PageChrome } from "../types.ts";
import { formatCount } from "../_format.ts";
import { Layout } from "../layout.tsx";
import { Heatmap } from "../components/heatmap.tsx";
import { PeriodSelector } from "../components/period_selector.tsx";
import { formatBytes } from "./runtime_page.tsx";

/** Props of {@linkcode BandwidthPage}. */
export interface BandwidthPageProps {
  chrome: PageChrome;
  received: number;
  emitted: number;
  requests: number;
  days: readonly {
    day: string;
    bytes_received: number;
    bytes_emitted: number;
    request_count: number;
  }[];
  heatmap: HeatmapView;
}

/** The page. */
export function BandwidthPage(p: BandwidthPageProps) {
  return (
    <Layout chrome={p.chrome}>
      <h1>Bandwidth</h1>
      <div class="filter-bar">
        <PeriodSelector chrome={p.chrome} />
      </div>
      <div class="card-grid" role="group" aria-label="Bandwidth">
        <section class="card stat-card" data-card="received">
          <h3>Total received</h3>
          <p class="card-value">{formatBytes(p.received)}</p>
          <p class="card-detail muted">
            {formatCount(p.received)} bytes from clients · {formatCount(p.requests)} requests
          </p>
        </section>
        <section class="card stat-card" data-card="emitted">
          <h3>Total emitted</h3>
          <p class="card-value">{formatBytes(p.emitted)}</p>
          <p class="card-detail muted">{formatCount(p.emitted)} bytes to clients</p>
        </section>
      </div>
      {p.requests === 0 && (
        <section class="card empty-state" id="bandwidth-empty">
          <p>
            <strong>No requests in this period.</strong>
          </p>
          <p>
            Bytes are counted for every request clients send to <code>/v1/chat/completions</code> or
            {" "}
            <code>/v1/messages</code>; pick a longer period or send a request.
          </p>
        </section>
      )}
      <Heatmap
        id="bandwidth-heatmap"
        title="Bandwidth activity (last 180 days)"
        view={p.heatmap}
        unit="bytes"
      />
      {p.days.length > 0 && (
        <>
          <h2>Per day</h2>
          <div class="table-wrap">
            <table id="bandwidth-days">
              <thead>
                <tr>
                  <th scope="col">Day (UTC)</th>
                  <th scope="col" class="num">Received</th>
                  <th scope="col" class="num">Emitted</th>
                  <th scope="col" class="num p2">Requests</th>
                </tr>
              </thead>
              <tbody>
                {p.days.map((d) => (
                  <tr key={d.day} data-day={d.day}>
                    <td data-col="Day">{d.day}</td>
                    <td class="num" data-col="Received">{formatCount(d.bytes_received)}</td>
                    <td class="num" data-col="Emitted">{formatCount(d.bytes_emitted)}</td>
                    <td class="num p2" data-col="Requests">{formatCount(d.request_count)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Layout>
  );
}
