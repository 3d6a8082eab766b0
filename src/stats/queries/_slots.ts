/**
 * Periods split for the rollups of migration 0005 (`request_hours`,
 * `account_hours`, `client_ip_days`, `ttft_days`, `phase_days`): the whole UTC hours or days
 * inside a period are read from a rollup, the partial slots at its two ends
 * from `requests`, so the answer is the sum over the period's rows to the
 * millisecond (tests/stats_rollup_test.ts compares both).
 */
import type { StatsPeriod } from "./period.ts";
import { rollupsOff } from "./_days.ts";

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** A period cut at slot boundaries: rollup slots `from <= slot < to`, raw rows at the ends. */
export interface SlotSplit {
  from: number;
  to: number;
  /** `[start, end)` of the rows before the first whole slot (or of all rows, when none). */
  head?: [number, number];
  /** `[start, end)` of the rows after the last whole slot. */
  tail?: [number, number];
  /** head and tail, those present. */
  edges: [number, number][];
}

/**
 * Splits `p` into whole `slotMs` slots and the partial ones at its ends;
 * with `rowsOnly` (a view no rollup holds) all of it goes to the rows.
 */
export function splitPeriod(p: StatsPeriod, slotMs: number, rowsOnly = false): SlotSplit {
  const from = Math.ceil(p.start / slotMs) * slotMs;
  const to = Math.floor(p.end / slotMs) * slotMs;
  if (from >= to || rowsOnly || rollupsOff()) {
    return { from: 0, to: 0, head: [p.start, p.end], edges: [[p.start, p.end]] };
  }
  const head: [number, number] | undefined = p.start < from ? [p.start, from] : undefined;
  const tail: [number, number] | undefined = to < p.end ? [to, p.end] : undefined;
  return { from, to, head, tail, edges: [head, tail].filter((e) => e !== undefined) };
}
