/**
 * The Traces page (spec 06 §4): the latest requests, and one request with its
 * attempts and routing decisions. Metadata only: never a prompt, a reply, an
 * auth header, the stored error text or the client address.
 */
import { FactList } from "../components/page_bits.tsx";
import type { recentRequests, requestDetail } from "../../../stats/queries/recent.ts";
import type { PageChrome } from "../types.ts";
import { formatCost, formatCount, formatMs, pageHref } from "../_format.ts";
import { Layout } from "../layout.tsx";

type RequestRow = ReturnType<typeof recentRequests>[number];
type Detail = NonNullable<ReturnType<typeof requestDetail>>;

const LIMITS = [10, 50, 100, 200, 500];

function when(iso: string | null): string {
  return iso === null ? "—" : `${iso.replace("T", " ").slice(0, 19)} UTC`;
}

function ms(v: number | null): string {
  return formatMs(v ?? undefined);
}

function StatusTag({ status, code }: { status: string; code: number | null }) {
  const tone = status === "completed"
    ? "tag success"
    : status === "pending" || status === "cancelled" || status === "client_error"
    ? "tag warning"
    : "tag error";
  return <span class={tone}>{code === null ? status : `${status} ${code}`}</span>;
}

/** Props of {@linkcode TracesPage}. */
export interface TracesPageProps {
  chrome: PageChrome;
  limit: number;
  requests: readonly RequestRow[];
}

/** The latest requests. */
export function TracesPage({ chrome, limit, requests }: TracesPageProps) {
  const base = { period: chrome.period, theme: chrome.theme };
  return (
    <Layout chrome={chrome}>
      <h1>Traces</h1>
      <div class="filter-bar">
        <nav class="type-filter" aria-label="Rows shown">
          {LIMITS.map((n) => (
            <a
              key={n}
              href={pageHref("/traces", { ...base, limit: String(n) })}
              class={n === limit ? "chip active" : "chip"}
            >
              {n}
            </a>
          ))}
        </nav>
        <span class="muted">latest requests, newest first</span>
      </div>
      {requests.length === 0
        ? (
          <section class="card empty-state" id="traces-empty">
            <p>
              <strong>No requests recorded yet.</strong>
            </p>
            <p>
              Point a client at <code>/v1/chat/completions</code> or <code>/v1/messages</code>{" "}
              with the local API key; each request then shows here with its attempts and routing.
            </p>
          </section>
        )
        : (
          <div class="table-wrap">
            <table id="traces">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Account</th>
                  <th scope="col">Model</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">Latency</th>
                  <th scope="col" class="p2">Provider</th>
                  <th scope="col" class="p2">Protocol</th>
                  <th scope="col" class="p2">Error class</th>
                  <th scope="col" class="num p2">In</th>
                  <th scope="col" class="num p2">Out</th>
                  <th scope="col" class="num p3">Thinking</th>
                  <th scope="col" class="p3">ID</th>
                </tr>
              </thead>
              <tbody>
                {requests.map((r) => (
                  <tr key={r.id} data-request={r.request_id}>
                    <td data-col="Time">
                      <a href={pageHref(`/traces/${r.id}`, base)}>{when(r.started_at)}</a>
                    </td>
                    <td data-col="Account">{r.account_name ?? "—"}</td>
                    <td data-col="Model">{r.model_id ?? r.requested_model}</td>
                    <td data-col="Status">
                      <StatusTag status={r.status} code={r.status_code} />
                    </td>
                    <td class="num" data-col="Latency">{ms(r.latency_ms)}</td>
                    <td class="p2" data-col="Provider">{r.provider_id ?? "—"}</td>
                    <td class="p2" data-col="Protocol">{r.client_protocol}</td>
                    <td class="p2" data-col="Error class">{r.error_class ?? "—"}</td>
                    <td class="num p2" data-col="In">{formatCount(r.input_tokens)}</td>
                    <td class="num p2" data-col="Out">{formatCount(r.output_tokens)}</td>
                    <td class="num p3" data-col="Thinking">{formatCount(r.reasoning_tokens)}</td>
                    <td class="p3" data-col="ID">
                      <a href={pageHref(`/traces/${r.id}`, base)}>{r.request_id}</a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
    </Layout>
  );
}

/** Props of {@linkcode TraceDetailPage}. */
export interface TraceDetailProps {
  chrome: PageChrome;
  id: string;
  detail?: Detail;
}

/** One request: its figures, attempts and routing decisions. */
export function TraceDetailPage({ chrome, id, detail }: TraceDetailProps) {
  const back = pageHref("/traces", { period: chrome.period, theme: chrome.theme });
  if (detail === undefined) {
    return (
      <Layout chrome={chrome}>
        <h1>Request {id}</h1>
        <section class="card empty-state">
          <p>
            <strong>No request has this id.</strong> It may have been removed by retention.{" "}
            <a href={back}>Back to the latest requests</a>.
          </p>
        </section>
      </Layout>
    );
  }
  const r = detail.request;
  const facts: [string, string][] = [
    ["Request id", r.request_id],
    ["Started", when(r.started_at)],
    ["Completed", when(r.completed_at)],
    ["Status", r.status_code === null ? r.status : `${r.status} ${r.status_code}`],
    ["Error class", r.error_class ?? "—"],
    ["Requested model", r.requested_model],
    ["Model", r.model_id ?? "—"],
    ["Provider", r.provider_id ?? "—"],
    ["Account", r.account_name ?? "—"],
    ["Protocol", `${r.client_protocol} → ${r.upstream_protocol ?? "—"}`],
    ["Endpoint", `${r.client_surface}${r.transcoded ? " (transcoded)" : ""}`],
    [
      "Dropped fields",
      r.dropped_fields === 0
        ? "none"
        : `${formatCount(r.dropped_fields)}: ${r.dropped_field_names.join(", ")}`,
    ],
    ["Streamed", r.streamed ? "yes" : "no"],
    ["Latency", ms(r.latency_ms)],
    ["First byte", ms(r.first_byte_ms)],
    ["Tokens in / out", `${formatCount(r.input_tokens)} / ${formatCount(r.output_tokens)}`],
    [
      "Cache read / write",
      `${formatCount(r.cache_read_tokens)} / ${formatCount(r.cache_write_tokens)}`,
    ],
    ["Cost", `${formatCost(r.cost_microdollars)} (${r.cost_exactness})`],
    [
      "Bytes received / emitted",
      `${formatCount(r.bytes_received)} / ${formatCount(r.bytes_emitted)}`,
    ],
  ];
  return (
    <Layout chrome={chrome}>
      <h1>Request {r.request_id}</h1>
      <p>
        <a href={back}>← Latest requests</a>
      </p>
      <FactList id="trace-facts" facts={facts} />
      <h2>Attempts</h2>
      {detail.attempts.length === 0
        ? <p class="muted">No upstream attempt: the request ended before routing.</p>
        : (
          <div class="table-wrap">
            <table id="trace-attempts">
              <thead>
                <tr>
                  <th scope="col" class="num">#</th>
                  <th scope="col">Account</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">Latency</th>
                  <th scope="col" class="p2">Error class</th>
                  <th scope="col" class="p2">Retry</th>
                  <th scope="col" class="p3">Provider / model</th>
                </tr>
              </thead>
              <tbody>
                {detail.attempts.map((a) => (
                  <tr key={a.attempt_number}>
                    <td class="num" data-col="#">{a.attempt_number}</td>
                    <td data-col="Account">{a.account_name ?? "—"}</td>
                    <td data-col="Status">{a.status_code ?? "—"}</td>
                    <td class="num" data-col="Latency">{ms(a.latency_ms)}</td>
                    <td class="p2" data-col="Error class">{a.error_class ?? "—"}</td>
                    <td class="p2" data-col="Retry">{a.retry_category ?? "—"}</td>
                    <td class="p3" data-col="Provider / model">
                      {`${a.provider_id} / ${a.model_id}`}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      <h2>Routing decisions</h2>
      {detail.routing_decisions.length === 0
        ? <p class="muted">No routing decision was recorded for this request.</p>
        : (
          <div class="table-wrap">
            <table id="trace-routing">
              <thead>
                <tr>
                  <th scope="col" class="num">Attempt</th>
                  <th scope="col">Selected</th>
                  <th scope="col" class="num">Eligible</th>
                  <th scope="col" class="p2">Excluded</th>
                </tr>
              </thead>
              <tbody>
                {detail.routing_decisions.map((d) => (
                  <tr key={String(d.attempt_number)}>
                    <td class="num" data-col="Attempt">{String(d.attempt_number)}</td>
                    <td data-col="Selected">{String(d.selected_account ?? "—")}</td>
                    <td class="num" data-col="Eligible">{String(d.eligible_count)}</td>
                    <td class="p2" data-col="Excluded">{exclusions(d.exclusions)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
    </Layout>
  );
}

function exclusions(list: unknown): string {
  if (!Array.isArray(list) || list.length === 0) return "—";
  return list.map((e) => {
    const x = e as Record<string, unknown>;
    return `${String(x.account_name ?? x.account ?? "?")}: ${String(x.reason ?? "?")}`;
  }).join(", ");
}
