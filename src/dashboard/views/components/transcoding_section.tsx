/**
 * The Routing page's "Transcoding" section (issue #15, spec 06 §4): per
 * direction, the client's endpoint and the protocol its upstream spoke, how
 * many requests went that way and how they ended, and which request fields
 * the translation dropped. The figures of `/api/stats/transcoding`.
 */
import type { TranscodingDirection, TranscodingStats } from "../../../stats/queries/transcoding.ts";
import { formatCount, formatShare } from "../_format.ts";
import { DataTable } from "./data_table.tsx";
import { EmptyNote, share, StatCards, Tag } from "./page_bits.tsx";

/** How each endpoint is named on the page. */
const SURFACE_LABEL: Readonly<Record<string, string>> = {
  chat_completions: "Chat Completions",
  messages: "Messages",
  responses: "Responses",
};

const PROTOCOL_LABEL: Readonly<Record<string, string>> = {
  openai: "OpenAI",
  anthropic: "Anthropic",
};

function directionLabel(d: TranscodingDirection): string {
  return `${SURFACE_LABEL[d.client_surface] ?? d.client_surface} → ${
    PROTOCOL_LABEL[d.upstream_protocol] ?? d.upstream_protocol
  }`;
}

function topFields(d: TranscodingDirection): string {
  if (d.top_dropped_fields.length === 0) return "—";
  return d.top_dropped_fields.map((f) => `${f.field} (${formatCount(f.requests)})`).join(", ");
}

/** Cards and a table per direction; an empty period says so. */
export function TranscodingSection({ stats }: { stats: TranscodingStats }) {
  const t = stats.totals;
  return (
    <section id="transcoding" aria-labelledby="transcoding-title">
      <h2 id="transcoding-title">Transcoding</h2>
      {stats.directions.length === 0
        ? (
          <EmptyNote>
            No request reached an upstream in this period, so none was sent natively or translated.
          </EmptyNote>
        )
        : (
          <>
            <StatCards
              label="Transcoding"
              cards={[{
                id: "transcoded",
                label: "Transcoded requests",
                value: formatCount(t.transcoded),
                detail: `${formatShare(share(t.transcoded, t.requests))} of ${
                  formatCount(t.requests)
                } routed · ${formatCount(t.native)} native`,
                tooltip: "Requests translated between Chat Completions, Messages and Responses " +
                  "on their way to an upstream of another protocol or API",
              }, {
                id: "dropped",
                label: "Dropped fields",
                value: formatCount(t.dropped_fields),
                detail: `in ${formatCount(t.requests_with_drops)} request${
                  t.requests_with_drops === 1 ? "" : "s"
                }`,
                tooltip: "Request fields the translation could not carry and left out " +
                  "(named in each answer's x-proxy-transcode-warnings header)",
                warn: t.dropped_fields > 0,
              }]}
            />
            <DataTable
              label="Requests per direction"
              rows={stats.directions}
              rowKey={(d) => `${d.client_surface}→${d.upstream_protocol}`}
              columns={[
                { label: "Direction", cell: directionLabel },
                {
                  label: "Kind",
                  cell: (d) =>
                    d.transcoded
                      ? <Tag text="transcoded" tone="warning" tip="Translated on the way" />
                      : <Tag text="native" tone="success" tip="Sent as the client sent it" />,
                },
                { label: "Requests", num: true, cell: (d) => formatCount(d.requests) },
                {
                  label: "Successful",
                  num: true,
                  priority: 2,
                  cell: (d) => formatCount(d.successful),
                },
                {
                  label: "Errors",
                  num: true,
                  priority: 2,
                  tip: "Upstream or proxy errors; client errors are counted apart",
                  cell: (d) => formatCount(d.errors),
                },
                {
                  label: "Client errors",
                  num: true,
                  priority: 3,
                  cell: (d) => formatCount(d.client_errors),
                },
                { label: "Dropped fields", num: true, cell: (d) => formatCount(d.dropped_fields) },
                {
                  label: "Most dropped",
                  priority: 2,
                  tip: "Field names (indexes folded) and the requests that dropped them",
                  cell: topFields,
                },
              ]}
            />
          </>
        )}
    </section>
  );
}
