/**
 * Local request cost in integer microdollars (04 §6.1) and config price
 * parsing (02 §11). Rates are microdollars per million tokens (µ$/M), so
 * `$3 / 1M` is `3_000_000`.
 *
 * @module
 */

import type { Usage } from "./usage.ts";

/** Per-category rates in µ$ per million tokens; a missing field means "no price known". */
export interface Price {
  inputMicrosPerMillion?: number;
  outputMicrosPerMillion?: number;
  cacheReadMicrosPerMillion?: number;
  cacheWriteMicrosPerMillion?: number;
}

/** How much to trust a cost (dashboard classes of 04 §6.2; `exact` is legacy, never produced). */
export type CostExactness = "exact" | "partial" | "derived" | "estimated" | "unknown";

/** Result of {@linkcode computeCost}. */
export interface CostResult {
  costMicros: number;
  exactness: CostExactness;
}

/** Token counts the calculator needs; `inputTokens` excludes cached input (see {@linkcode Usage}). */
export type TokenCounts = Pick<
  Usage,
  "inputTokens" | "outputTokens" | "cacheReadTokens" | "cacheWriteTokens"
>;

/**
 * Rates used when a model has no price, or for the missing categories of a
 * partial price (04 §6.1): $3/M input, $15/M output, $0.30/M cache read,
 * $3.75/M cache write. Cache categories are charged too because our
 * `inputTokens` no longer contains the cached part.
 */
export const GENERIC_PRICE: Readonly<Required<Price>> = Object.freeze({
  inputMicrosPerMillion: 3_000_000,
  outputMicrosPerMillion: 15_000_000,
  cacheReadMicrosPerMillion: 300_000,
  cacheWriteMicrosPerMillion: 3_750_000,
});

/** Hard cap on one request's cost: $250 (04 §6.2). */
export const MAX_REQUEST_COST_MICROS = 250_000_000;

/** Rates above $1000/M are treated as broken metadata (04 §6.0 trust gate). */
export const MAX_TRUSTED_RATE_MICROS_PER_MILLION = 1_000_000_000;

/** A priced result above 1000 µ$ per token is implausible; fall back to the estimate. */
const MAX_MICROS_PER_TOKEN = 1_000;

const MICROS_PER_MILLION_TOKENS = 1_000_000;

/** Options for {@linkcode computeCost}. */
export interface ComputeCostOptions {
  /** Per-request cap; defaults to {@linkcode MAX_REQUEST_COST_MICROS}. */
  maxCostMicros?: number;
  /** Rates for unpriced models and categories; defaults to {@linkcode GENERIC_PRICE}. */
  fallbackPrice?: Readonly<Required<Price>>;
  /**
   * `[pricing] fallback = "off"` (spec 02 §7): no estimate at all. An unpriced
   * model (or an untrustworthy price) costs 0 with exactness `unknown`, and a
   * category without a rate adds nothing (still `partial`).
   */
  noFallback?: boolean;
}

const CATEGORIES = [
  ["inputTokens", "inputMicrosPerMillion"],
  ["outputTokens", "outputMicrosPerMillion"],
  ["cacheReadTokens", "cacheReadMicrosPerMillion"],
  ["cacheWriteTokens", "cacheWriteMicrosPerMillion"],
] as const;

/**
 * Prices one request: `Σ tokens × rate / 1e6`, summed exactly in integers and
 * rounded once. A model with no usable price gets the generic estimate.
 */
export function computeCost(
  usage: TokenCounts,
  price: Price | undefined,
  options: ComputeCostOptions = {},
): CostResult {
  const cap = options.maxCostMicros ?? MAX_REQUEST_COST_MICROS;
  const fallback = options.noFallback ? ZERO_PRICE : options.fallbackPrice ?? GENERIC_PRICE;
  const estimate = options.noFallback ? unpriced : estimated;
  let totalTokens = 0;
  for (const [tokenKey] of CATEGORIES) totalTokens += usage[tokenKey];
  if (!(totalTokens > 0)) return { costMicros: 0, exactness: "unknown" };
  if (price === undefined) return estimate(usage, fallback, cap);

  const tokens: number[] = [];
  const rates: number[] = [];
  let priced = 0;
  let missing = 0;
  let anyPositiveRate = false;
  for (const [tokenKey, rateKey] of CATEGORIES) {
    const count = usage[tokenKey];
    if (!(count > 0)) continue;
    const rate = price[rateKey];
    if (rate === undefined || !Number.isFinite(rate) || rate < 0) {
      missing++;
      tokens.push(count);
      rates.push(fallback[rateKey]);
      continue;
    }
    if (rate > MAX_TRUSTED_RATE_MICROS_PER_MILLION) return estimate(usage, fallback, cap);
    priced++;
    if (rate > 0) anyPositiveRate = true;
    tokens.push(count);
    rates.push(rate);
  }
  if (priced === 0) return estimate(usage, fallback, cap);

  const cost = weightedMicros(tokens, rates);
  if (cost > totalTokens * MAX_MICROS_PER_TOKEN) return estimate(usage, fallback, cap);
  let exactness: CostExactness = missing > 0 ? "partial" : "derived";
  // Real rates that still round to nothing are not a trustworthy zero; explicit
  // zero rates (a free model) are.
  if (cost === 0 && (anyPositiveRate || missing > 0)) exactness = "estimated";
  return { costMicros: Math.min(cost, cap), exactness };
}

const ZERO_PRICE: Readonly<Required<Price>> = Object.freeze({
  inputMicrosPerMillion: 0,
  outputMicrosPerMillion: 0,
  cacheReadMicrosPerMillion: 0,
  cacheWriteMicrosPerMillion: 0,
});

function unpriced(): CostResult {
  return { costMicros: 0, exactness: "unknown" };
}

function estimated(
  usage: TokenCounts,
  fallback: Readonly<Required<Price>>,
  cap: number,
): CostResult {
  const tokens: number[] = [];
  const rates: number[] = [];
  for (const [tokenKey, rateKey] of CATEGORIES) {
    tokens.push(usage[tokenKey] > 0 ? usage[tokenKey] : 0);
    rates.push(fallback[rateKey]);
  }
  return { costMicros: Math.min(weightedMicros(tokens, rates), cap), exactness: "estimated" };
}

/** `round(Σ tokens[i] × rates[i] / 1e6)` without floating-point drift. */
function weightedMicros(tokens: number[], rates: number[]): number {
  let sum = 0;
  for (let i = 0; i < tokens.length; i++) sum += Math.trunc(tokens[i]) * Math.round(rates[i]);
  if (Number.isSafeInteger(sum)) {
    let q = Math.floor(sum / MICROS_PER_MILLION_TOKENS);
    let r = sum - q * MICROS_PER_MILLION_TOKENS;
    // Float division can be one off near 2^53; correct the quotient exactly.
    if (r < 0) {
      q--;
      r += MICROS_PER_MILLION_TOKENS;
    } else if (r >= MICROS_PER_MILLION_TOKENS) {
      q++;
      r -= MICROS_PER_MILLION_TOKENS;
    }
    return r * 2 >= MICROS_PER_MILLION_TOKENS ? q + 1 : q;
  }
  let big = 0n;
  for (let i = 0; i < tokens.length; i++) {
    big += BigInt(Math.trunc(tokens[i])) * BigInt(Math.round(rates[i]));
  }
  return Number((big + 500_000n) / 1_000_000n);
}
