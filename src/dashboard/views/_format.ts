/** Number and link formatting shared by the views. */
import type { Period } from "./types.ts";

/** The few values plain digit grouping cannot write (infinities, NaN, 1e21 and up). */
const COUNT_FORMAT = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/**
 * `1,234,567`. Grouped by hand: `toLocaleString` builds a formatter per call, which was most of
 * the time a page with a few thousand numbers (Timeseries over 30 days) took to render.
 */
export function formatCount(n: number): string {
  const r = Math.round(n);
  const abs = Math.abs(r);
  if (!(abs < 1e21)) return COUNT_FORMAT.format(r);
  const digits = String(abs);
  let out = digits.length > 3 ? "" : digits;
  if (digits.length > 3) {
    const head = digits.length % 3 || 3;
    out = digits.slice(0, head);
    for (let i = head; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  }
  return r < 0 ? `-${out}` : out;
}

/** Dollars from microdollars: `$12.34`, or four decimals under a dollar. */
export function formatCost(micros: number): string {
  const dollars = micros / 1_000_000;
  return `$${dollars.toFixed(dollars !== 0 && Math.abs(dollars) < 1 ? 4 : 2)}`;
}

/** `42.0%`, or an em dash when there is nothing to divide. */
export function formatShare(ratio: number | undefined): string {
  return ratio === undefined || !Number.isFinite(ratio) ? "—" : `${(ratio * 100).toFixed(1)}%`;
}

/** `850 ms` or `1.25 s`. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return "—";
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** A UTC timestamp without milliseconds: `2025-01-31 13:45:00 UTC`. */
export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** Moves by reason: `3 · rate_limited 2, auth 1`, or `0`. */
export function formatMoves(moves: Readonly<Record<string, number>>): string {
  const entries = Object.entries(moves).filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return "0";
  return `${total} · ${entries.map(([why, n]) => `${why} ${n}`).join(", ")}`;
}

/** A dashboard link that keeps the period and theme (spec 06 §1). */
export function pageHref(
  path: string,
  params: { period: Period; theme: string } & Readonly<Record<string, string>>,
): string {
  return `${path}?${new URLSearchParams(params)}`;
}
