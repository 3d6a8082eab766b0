/**
 * One quota window's utilization in an Accounts table cell (spec 06 §4,
 * "5h/7d/30d utilization rate"): the highest of the request, token and spend
 * ratios the scorer ranks by (spec 03 §5, finished requests only), as a tag
 * that turns to warning at 80 % and error at 100 %, then the dimension behind
 * it as used / limit. The tooltip (and accessible name) lists all three.
 */
import type { WindowUse } from "../types.ts";
import { formatCost, formatCount } from "../_format.ts";

/** A ratio at or above this shows as a warning tag. */
export const UTIL_WARNING = 0.8;

/** `950`, `12.3k`, `1.25M`, `500M`, `7G`: short enough for a table cell. */
export function formatCompact(n: number): string {
  const abs = Math.abs(n);
  if (abs < 1000) return formatCount(n);
  const units: readonly [number, string][] = [[1e9, "G"], [1e6, "M"], [1e3, "k"]];
  for (const [size, unit] of units) {
    if (abs < size) continue;
    const v = n / size;
    const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
    return `${Number(v.toFixed(digits))}${unit}`;
  }
  return formatCount(n);
}

interface Dimension {
  name: string;
  ratio: number;
  text: string;
}

/** Each capped dimension with its ratio and `used / limit` text. */
export function windowDimensions(w: WindowUse): Dimension[] {
  const out: Dimension[] = [];
  if (w.requestLimit !== undefined && w.requestLimit > 0) {
    out.push({
      name: "requests",
      ratio: w.requests / w.requestLimit,
      text: `${formatCompact(w.requests)} / ${formatCompact(w.requestLimit)} requests`,
    });
  }
  if (w.tokenLimit !== undefined && w.tokenLimit > 0) {
    out.push({
      name: "tokens",
      ratio: w.tokens / w.tokenLimit,
      text: `${formatCompact(w.tokens)} / ${formatCompact(w.tokenLimit)} tokens`,
    });
  }
  if (w.limitMicros !== undefined && w.limitMicros > 0) {
    out.push({
      name: "spend",
      ratio: w.spentMicros / w.limitMicros,
      text: `${formatCost(w.spentMicros)} / ${formatCost(w.limitMicros)} spend`,
    });
  }
  return out;
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

/** The cell: "—" without a window or any limit. */
export function WindowUseCell({ name, use }: { name: string; use: WindowUse | undefined }) {
  const dims = use === undefined ? [] : windowDimensions(use);
  if (dims.length === 0) return <>—</>;
  const top = dims.reduce((a, b) => (b.ratio > a.ratio ? b : a));
  const tone = top.ratio >= 1 ? "tag error" : top.ratio >= UTIL_WARNING ? "tag warning" : "tag";
  const tip = `${name} window: ${
    dims.map((d) => `${d.text} (${percent(d.ratio)})`).join(" · ")
  }; finished requests only`;
  return (
    <>
      <span class={tone} tabindex={0} data-tooltip={tip} aria-label={tip}>
        {percent(top.ratio)}
      </span>{" "}
      <small class="util-detail">{top.text}</small>
    </>
  );
}
