/**
 * `/models/{id}` (spec 06 §4): one model's status cards, usage summary over
 * the period, which providers list it and whether an account can call it
 * now, the catalog's metadata per provider and where each row came from.
 * Everything is server-rendered and escaped; no script is needed to read it.
 */
import type { PageChrome } from "./types.ts";
import type { ModelDetail } from "../model_page_data.ts";
import { capabilityNames, infoSummary } from "../model_info.ts";
import { formatCost, formatCount, formatMs, formatTime, pageHref } from "./_format.ts";
import { Layout } from "./layout.tsx";
import { PeriodSelector } from "./components/period_selector.tsx";
import { EmptyNote, FactList, StatCards, Tag } from "./components/page_bits.tsx";
import type { StatCard } from "./components/page_bits.tsx";

/** Props of {@linkcode ModelDetailPage}. */
export interface ModelDetailPageProps {
  chrome: PageChrome;
  modelId: string;
  /** Undefined when no provider lists the model and nothing used it in the period. */
  detail?: ModelDetail;
}

const METADATA_MAX_CHARS = 200;

function limit(n: number | undefined): string {
  return n === undefined ? "—" : formatCount(n);
}

function value(v: unknown): string {
  const text = typeof v === "string" ? v : JSON.stringify(v);
  return text.length > METADATA_MAX_CHARS ? `${text.slice(0, METADATA_MAX_CHARS - 1)}…` : text;
}

function cards(d: ModelDetail): StatCard[] {
  const u = d.usage;
  const callable = d.providers.filter((p) => p.callable).length;
  const info = infoSummary(d.catalog);
  return [
    {
      id: "availability",
      label: "Availability",
      value: d.catalog.some((c) => c.protocol !== undefined) ? "listed" : "not listed",
      detail: `${callable} of ${d.providers.length} providers callable now`,
      tooltip: "Listed: a provider's model list (or static_models) names it with a protocol",
      warn: callable === 0,
    },
    {
      id: "requests",
      label: "Requests",
      value: formatCount(u?.request_count ?? 0),
      detail: `${formatCount(u?.error_count ?? 0)} errors`,
      tooltip: "Requests routed to this model in the period",
    },
    {
      id: "cost",
      label: "Cost",
      value: formatCost(u?.cost_microdollars ?? 0),
      detail: `${formatCount(u?.estimated_count ?? 0)} estimated from default prices`,
      tooltip: "Cost of the period's requests",
    },
    {
      id: "info",
      label: "Info",
      value: info.level === "none" ? "no info" : info.level,
      detail: info.text === "" ? "no limits or capabilities listed" : info.text,
      tooltip: "What the providers' model lists say about the model",
      warn: info.conflicts.length > 0,
    },
  ];
}

function Summary({ d }: { d: ModelDetail }) {
  const u = d.usage;
  if (u === undefined || u.request_count === 0) {
    return <EmptyNote>No request used this model in this period.</EmptyNote>;
  }
  const facts: [string, string][] = [
    ["Providers used", u.providers.join(", ")],
    ["Successful", formatCount(u.successful_count)],
    ["Input tokens", formatCount(u.input_tokens)],
    ["Output tokens", formatCount(u.output_tokens)],
    [
      "Cache read / write",
      `${formatCount(u.cache_read_tokens)} / ${formatCount(u.cache_write_tokens)}`,
    ],
    ["Reasoning tokens", formatCount(u.reasoning_tokens)],
    ["Avg latency", formatMs(u.avg_latency_ms ?? undefined)],
    ["Avg TTFT (streamed)", formatMs(u.avg_ttft_ms ?? undefined)],
    ["Avg cost/request", formatCost(u.cost_microdollars / u.request_count)],
  ];
  return <FactList id="model-summary" facts={facts} />;
}

function Providers({ d }: { d: ModelDetail }) {
  return (
    <div class="table-wrap">
      <table id="model-providers">
        <thead>
          <tr>
            <th scope="col">Provider</th>
            <th scope="col">Protocol</th>
            <th scope="col">Callable</th>
            <th scope="col" class="num">Accounts</th>
            <th scope="col" class="p2">Protocol from</th>
            <th scope="col" class="p3">Listed by</th>
          </tr>
        </thead>
        <tbody>
          {d.providers.map((p) => (
            <tr key={p.providerId} data-provider={p.providerId}>
              <td data-col="Provider">{p.providerId}</td>
              <td data-col="Protocol">{p.protocol ?? "unresolved"}</td>
              <td data-col="Callable">
                {p.callable
                  ? <Tag text="yes" tone="success" tip={p.why} />
                  : <Tag text="no" tone="warning" tip={p.why} />}
              </td>
              <td class="num" data-col="Accounts">
                {`${formatCount(p.readyAccounts)} of ${formatCount(p.accounts)}`}
              </td>
              <td class="p2" data-col="Protocol from">{p.protocolSource ?? "—"}</td>
              <td class="p3" data-col="Listed by">{p.source ?? "not listed"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Metadata({ d }: { d: ModelDetail }) {
  if (d.catalog.length === 0) {
    return <EmptyNote>No provider's model list names this model.</EmptyNote>;
  }
  const caps = capabilityNames(d.catalog);
  return (
    <div class="table-wrap">
      <table id="model-metadata">
        <thead>
          <tr>
            <th scope="col">Provider</th>
            <th scope="col">Name</th>
            <th scope="col" class="num">Context</th>
            <th scope="col" class="num">Input</th>
            <th scope="col" class="num">Output</th>
            <th scope="col" class="p2">Capabilities</th>
            <th scope="col" class="p3">Other metadata</th>
          </tr>
        </thead>
        <tbody>
          {d.catalog.map((c) => (
            <tr key={c.providerId} data-provider={c.providerId}>
              <td data-col="Provider">{c.providerId}</td>
              <td data-col="Name">{c.displayName ?? "—"}</td>
              <td class="num" data-col="Context">{limit(c.maxContextTokens)}</td>
              <td class="num" data-col="Input">{limit(c.maxInputTokens)}</td>
              <td class="num" data-col="Output">{limit(c.maxOutputTokens)}</td>
              <td class="p2" data-col="Capabilities">
                {capabilityNames([c]).join(", ") || "—"}
              </td>
              <td class="p3" data-col="Other metadata">
                {Object.entries(c.metadata).map(([k, v]) => `${k}=${value(v)}`).join(" ") || "—"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {caps.length > 0 && <p class="muted">All capabilities listed: {caps.join(", ")}</p>}
    </div>
  );
}

function Provenance({ d }: { d: ModelDetail }) {
  const conflicts = infoSummary(d.catalog).conflicts;
  return (
    <>
      {conflicts.length > 0 && (
        <p class="card warning-note" id="model-conflicts">
          Providers disagree on the {conflicts.join(" and ")}; the Info pill shows the smallest.
        </p>
      )}
      <ul id="model-provenance">
        {d.catalog.map((c) => (
          <li key={c.providerId}>
            <strong>{c.providerId}</strong>: from{" "}
            {c.source === "static_config" ? "static_models in the config" : "its models endpoint"},
            first seen {formatTime(c.firstSeenAt)}, last seen {formatTime(c.lastSeenAt)}
          </li>
        ))}
      </ul>
      <p class="muted">
        Benchmarks and Hugging Face metadata come from the model-info sidecar of the specification,
        which this version does not have; nothing here is fetched from outside the providers.
      </p>
    </>
  );
}

/** The page's own path, each segment of the id encoded. */
export function modelPath(id: string): string {
  return `/models/${id.split("/").map(encodeURIComponent).join("/")}`;
}

/** The page, or a 404 body naming the id (escaped). */
export function ModelDetailPage({ chrome, modelId, detail }: ModelDetailPageProps) {
  const back = pageHref("/models", { period: chrome.period, theme: chrome.theme });
  if (detail === undefined) {
    return (
      <Layout chrome={chrome}>
        <h1>Model {modelId}</h1>
        <p class="card empty-state">
          No model has this id: no provider lists it and no request used it in this period.{" "}
          <a href={back}>Back to Models</a>
        </p>
      </Layout>
    );
  }
  return (
    <Layout chrome={chrome}>
      <p>
        <a href={back}>← Models</a>
      </p>
      <h1>{modelId}</h1>
      <div class="filter-bar">
        <PeriodSelector chrome={{ ...chrome, path: modelPath(modelId) }} />
      </div>
      <StatCards cards={cards(detail)} label="Model status" />
      <h2>Summary</h2>
      <Summary d={detail} />
      <h2>Providers and callability</h2>
      <Providers d={detail} />
      <h2>Metadata</h2>
      <Metadata d={detail} />
      <h2>Provenance</h2>
      <Provenance d={detail} />
    </Layout>
  );
}
