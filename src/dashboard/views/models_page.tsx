/**
 * The Models page (spec 06 §4): every model of the catalog and every model
 * routed in the period, with its usage, cost exactness and a warning where a
 * model's spend rests on the generic default prices.
 */
import type { PageChrome } from "./types.ts";
import type { ModelsData } from "../pages_a_data.ts";
import { formatCost, formatCount, formatMs, pageHref } from "./_format.ts";
import { Layout } from "./layout.tsx";
import { modelPath } from "./model_detail_page.tsx";
import { PeriodSelector } from "./components/period_selector.tsx";
import { DataTable } from "./components/data_table.tsx";
import { EmptyNote, NO_TRAFFIC, Tag } from "./components/page_bits.tsx";

/** Props of {@linkcode ModelsPage}. */
export interface ModelsPageProps extends ModelsData {
  chrome: PageChrome;
}

type ModelRow = ModelsData["models"][number];

/** Spend at or above this, estimated from default prices, earns a pricing warning (µ$). */
const PRICING_WARNING_MICROS = 1_000_000;

function Availability({ row }: { row: ModelRow }) {
  if (row.listedBy.length > 0) {
    return (
      <Tag
        text="available"
        tone="success"
        tip={`Listed in the catalog by ${row.listedBy.join(", ")}`}
      />
    );
  }
  return (
    <Tag
      text="not listed"
      tone="warning"
      tip="Used in the period, no longer in the catalog"
    />
  );
}

function Info({ row }: { row: ModelRow }) {
  const i = row.info;
  const conflict = i.conflicts.length > 0
    ? ` Providers disagree on the ${i.conflicts.join(" and ")}.`
    : "";
  if (i.level === "none") {
    return <Tag text="no info" tip="No provider's model list gave limits or capabilities" />;
  }
  return (
    <Tag
      text={i.level === "complete" ? "info" : "sparse"}
      tone={i.conflicts.length > 0 ? "warning" : i.level === "complete" ? "success" : undefined}
      tip={`${i.text}.${conflict}`}
    />
  );
}

/** The model's id, linking to its detail page with the period and theme kept. */
export function modelHref(chrome: PageChrome, id: string): string {
  return pageHref(modelPath(id), {
    period: chrome.period,
    theme: chrome.theme,
  });
}

function Exactness({ row }: { row: ModelRow }) {
  const parts = [
    ["exact", row.exact_count + row.provider_reported_count],
    ["derived", row.derived_count + row.partial_count],
    ["est", row.estimated_count],
    ["unk", row.unknown_count],
  ] as const;
  const tip = `Cost exactness: ${parts.map(([k, n]) => `${k} ${n}`).join(" · ")}`;
  if (row.request_count === 0) return <span class="muted">—</span>;
  if (row.estimated_count > 0) return <Tag text="estimated" tone="warning" tip={tip} />;
  if (row.unknown_count > 0) return <Tag text="unknown" tip={tip} />;
  if (parts[1][1] > 0) return <Tag text="derived" tip={tip} />;
  return <Tag text="exact" tone="success" tip={tip} />;
}

function perK(row: ModelRow): string {
  return row.total_tokens === 0 ? "—" : formatCost(row.cost_microdollars * 1000 / row.total_tokens);
}

/** Pricing warnings, then the table or an empty state. */
export function ModelsPage(props: ModelsPageProps) {
  const { chrome } = props;
  const warned = props.models.filter((m) =>
    m.estimated_count > 0 && m.cost_microdollars >= PRICING_WARNING_MICROS
  );
  return (
    <Layout chrome={chrome}>
      <h1>Models</h1>
      <div class="filter-bar">
        <PeriodSelector chrome={chrome} />
        <span class="chip">{props.catalogSize} in the catalog</span>
      </div>
      {warned.map((m) => (
        <p key={m.model_id} class="card warning-note" data-pricing-warning={m.model_id}>
          <strong>{m.model_id}</strong>: {formatCost(m.cost_microdollars)}{" "}
          spent at the generic default prices. Add its prices under{" "}
          <code>[model_overrides."{m.model_id}"]</code> (<code>input_price_per_1k</code>,{" "}
          <code>output_price_per_1k</code>) for exact costs.
        </p>
      ))}
      {props.models.length === 0
        ? (
          <EmptyNote>
            No models yet: the catalog fills when a provider's model list is fetched at startup (or
            from <code>static_models</code>{" "}
            in the config), and models appear here once they are listed or used. {NO_TRAFFIC}
          </EmptyNote>
        )
        : (
          <DataTable
            label="Models"
            rows={props.models}
            rowKey={(r) => r.model_id}
            columns={[
              {
                label: "Model",
                cell: (r) => <a href={modelHref(chrome, r.model_id)}>{r.model_id}</a>,
              },
              { label: "Provider", cell: (r) => r.providers.join(", ") },
              { label: "Availability", cell: (r) => <Availability row={r} /> },
              {
                label: "Info",
                tip:
                  "What the providers' model lists say: context window, output limit, capabilities",
                cell: (r) => <Info row={r} />,
              },
              { label: "Requests", num: true, cell: (r) => formatCount(r.request_count) },
              { label: "Cost", num: true, cell: (r) => formatCost(r.cost_microdollars) },
              { label: "Exactness", cell: (r) => <Exactness row={r} /> },
              { label: "Errors", num: true, priority: 2, cell: (r) => formatCount(r.error_count) },
              { label: "Input", num: true, priority: 2, cell: (r) => formatCount(r.input_tokens) },
              {
                label: "Output",
                num: true,
                priority: 2,
                cell: (r) => formatCount(r.output_tokens),
              },
              {
                label: "Avg latency",
                num: true,
                priority: 2,
                cell: (r) => formatMs(r.avg_latency_ms ?? undefined),
              },
              {
                label: "Avg TTFT",
                num: true,
                priority: 2,
                tip: "Time to first byte of streamed answers",
                cell: (r) => formatMs(r.avg_ttft_ms ?? undefined),
              },
              {
                label: "TPS",
                num: true,
                priority: 2,
                tip: "Output tokens per second of the completed requests that produced output",
                cell: (r) => r.tokens_per_second === null ? "—" : r.tokens_per_second.toFixed(1),
              },
              {
                label: "Priority",
                num: true,
                priority: 3,
                tip: "The provider's routing_priority (the highest among the model's providers)",
                cell: (r) => r.priority === null ? "—" : String(r.priority),
              },
              {
                label: "Est. cost",
                num: true,
                priority: 3,
                tip: "Cost of the requests priced at estimated rates",
                cell: (r) => formatCost(r.estimated_cost_sum_microdollars),
              },
              {
                label: "Cache R",
                num: true,
                priority: 3,
                cell: (r) => formatCount(r.cache_read_tokens),
              },
              {
                label: "Cache W",
                num: true,
                priority: 3,
                cell: (r) => formatCount(r.cache_write_tokens),
              },
              {
                label: "Reasoning",
                num: true,
                priority: 3,
                cell: (r) => formatCount(r.reasoning_tokens),
              },
              {
                label: "Avg cost/req",
                num: true,
                priority: 3,
                cell: (r) =>
                  r.request_count === 0 ? "—" : formatCost(r.cost_microdollars / r.request_count),
              },
              { label: "Avg cost/1k tok", num: true, priority: 3, cell: perK },
            ]}
          />
        )}
    </Layout>
  );
}
