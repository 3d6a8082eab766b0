/** Number and link formatting shared by the views. */
import type { Period } from "./types.ts";

/** `1,234,567`. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
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
