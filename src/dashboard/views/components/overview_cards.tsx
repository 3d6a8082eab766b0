/** The Overview's headline cards (spec 06 §4) and the System Health row. */
import type { OverviewFigures, PendingView, RequestOutcomes } from "../types.ts";
import { formatCost, formatCount, formatMs, formatShare } from "../_format.ts";

interface Card {
  id: string;
  label: string;
  value: string;
  detail: string;
  tooltip: string;
  warn?: boolean;
}

function ratio(part: number, whole: number): number | undefined {
  return whole === 0 ? undefined : part / whole;
}

/**
 * How the requests ended, parts that add up to the total: success, errors and requests rejected
 * before routing always; routed client errors and cancellations when there are any.
 */
function outcomeDetail(o: RequestOutcomes): string {
  const parts = [
    `${formatCount(o.completed)} success`,
    `${formatCount(o.errors)} errors`,
    `${formatCount(o.rejected)} rejected`,
  ];
  if (o.clientErrors > 0) parts.push(`${formatCount(o.clientErrors)} client errors`);
  if (o.cancelled > 0) parts.push(`${formatCount(o.cancelled)} cancelled`);
  return parts.join(" · ");
}

/** The figures as cards, in spec order (rows 1–3 as far as our data goes). */
export function overviewCards(f: OverviewFigures, outcomes: RequestOutcomes): Card[] {
  const input = f.freshInputTokens + f.cacheReadTokens + f.cacheWriteTokens;
  const latencyS = f.latencyMsSum / 1000;
  const avgLatency = f.latencyCount === 0 ? undefined : f.latencyMsSum / f.latencyCount;
  const ttft = f.streamedFirstByteCount === 0
    ? undefined
    : f.streamedFirstByteMsSum / f.streamedFirstByteCount;
  return [{
    id: "requests",
    label: "Requests",
    value: formatCount(f.requests),
    detail: outcomeDetail(outcomes),
    tooltip: "Requests started in the period. Rejected: refused before routing " +
      "(unknown model, wrong endpoint, invalid body)",
  }, {
    id: "error_rate",
    label: "Error rate",
    value: formatShare(ratio(f.errors, f.requests)),
    detail: `avg latency ${formatMs(avgLatency)}`,
    tooltip: "Requests that ended in an upstream error or were interrupted",
  }, {
    id: "cost",
    label: "Total cost",
    value: formatCost(f.costMicros),
    detail: `in ${formatCount(input)} · out ${formatCount(f.outputTokens)} tokens`,
    tooltip: "Cost of the period's requests",
  }, {
    id: "tokens",
    label: "Total tokens",
    value: formatCount(input + f.outputTokens),
    detail: `fresh ${formatCount(f.freshInputTokens + f.outputTokens)} · cache read ${
      formatCount(f.cacheReadTokens)
    } · cache write ${formatCount(f.cacheWriteTokens)}`,
    tooltip: "Fresh input and output, cache reads and cache writes",
  }, {
    id: "cache_hit",
    label: "Provider cache hit rate",
    value: formatShare(ratio(f.cacheReadTokens, input)),
    detail: `${formatCount(f.cacheReadTokens)} of ${formatCount(input)} input tokens`,
    tooltip: "Share of input tokens read from the provider's prompt cache",
  }, {
    id: "reasoning",
    label: "Reasoning tokens",
    value: formatCount(f.reasoningTokens),
    detail: `${formatShare(ratio(f.reasoningTokens, f.outputTokens))} of output`,
    tooltip: "Output tokens spent on reasoning",
  }, {
    id: "throughput",
    label: "Throughput",
    value: latencyS > 0 ? `${(f.outputTokens / latencyS).toFixed(1)} tok/s` : "—",
    detail: `${formatCount(f.outputTokens)} output tokens`,
    tooltip: "Output tokens per second of request time",
  }, {
    id: "streaming",
    label: "Streaming",
    value: formatShare(ratio(f.streamed, f.requests)),
    detail: `${formatCount(f.streamed)} streamed · ${
      formatCount(f.requests - f.streamed)
    } non-streamed`,
    tooltip: "Share of requests answered as a stream",
  }, {
    id: "ttft",
    label: "Avg TTFT (streamed)",
    value: formatMs(ttft),
    detail: `over ${formatCount(f.streamedFirstByteCount)} streamed requests`,
    tooltip: "Average time to the first byte of streamed answers",
  }];
}

function CardView({ card }: { card: Card }) {
  return (
    <section class={card.warn ? "card stat-card warning" : "card stat-card"} data-card={card.id}>
      <h3 data-tooltip={card.tooltip} aria-label={card.tooltip}>{card.label}</h3>
      <p class="card-value">{card.value}</p>
      <p class="card-detail muted">{card.detail}</p>
    </section>
  );
}

/** A grid of cards. */
export function CardGrid({ cards, label }: { cards: readonly Card[]; label: string }) {
  return (
    <div class="card-grid" role="group" aria-label={label}>
      {cards.map((card) => <CardView key={card.id} card={card} />)}
    </div>
  );
}

function formatAge(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** The System Health row: shown only while requests are pending. */
export function SystemHealth({ pending }: { pending: PendingView }) {
  if (pending.count === 0) return null;
  const oldest = pending.oldestAgeMs === undefined ? "—" : formatAge(pending.oldestAgeMs);
  const card: Card = {
    id: "pending",
    label: "Pending requests",
    value: formatCount(pending.count),
    detail: `oldest ${oldest} · stale ${formatCount(pending.stale)}`,
    tooltip: "Requests not finished yet; stale after 15 minutes",
    warn: pending.stale > 0,
  };
  return (
    <>
      <h2>System Health</h2>
      <CardGrid cards={[card]} label="System health" />
    </>
  );
}
