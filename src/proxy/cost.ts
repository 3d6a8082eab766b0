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
  const fallback = options.fallbackPrice ?? GENERIC_PRICE;
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

function estimate(
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

/**
 * What a bare number means for {@linkcode parsePrice}: dollars per 1K tokens for
 * `*_price_per_1k` keys, µ$ per million tokens for `cache_*_per_million_microdollars`.
 */
export type BarePriceUnit = "dollars_per_1k" | "micros_per_million";

/** Result of {@linkcode parsePrice}: a rate in µ$/M, or why the value is unusable. */
export type ParsedPrice =
  | { ok: true; microsPerMillion: number }
  | { ok: false; message: string };

// `$3 / 1M`, `3 USD per 1M tokens`, `0.000003 per token`, `$0.5/1K`, `$15/MTok`.
const PRICE_PATTERN =
  /^(\$)?\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*(?:usd|\$)?\s*(?:(\/|per\b)\s*(\d+(?:\.\d+)?)?\s*(k|m|thousand|million)?\s*(tokens?|tok)?)?$/i;

const UNIT_TOKENS: Record<string, number> = { k: 1e3, thousand: 1e3, m: 1e6, million: 1e6 };

/**
 * Parses a config price (02 §11) into µ$ per million tokens, rounded to an
 * integer. Strings may carry their own unit; negative prices are rejected.
 */
export function parsePrice(value: unknown, bareUnit: BarePriceUnit): ParsedPrice {
  if (typeof value === "number") return fromBare(value, bareUnit, String(value));
  if (typeof value !== "string") {
    return { ok: false, message: 'Price must be a number or a string like "$3 / 1M"' };
  }
  const text = value.trim();
  const match = PRICE_PATTERN.exec(text);
  if (match === null) {
    return {
      ok: false,
      message: `Cannot parse price "${value}": expected a number or a string like "$3 / 1M"`,
    };
  }
  const [, dollarSign, amountText, separator, countText, scale, tokenWord] = match;
  const amount = Number(amountText);
  if (separator === undefined) {
    if (dollarSign !== undefined && bareUnit === "micros_per_million") {
      return { ok: false, message: `Cannot parse price "${value}": a dollar amount needs a unit` };
    }
    return fromBare(amount, bareUnit, value);
  }
  if (countText === undefined && scale === undefined && tokenWord === undefined) {
    return { ok: false, message: `Cannot parse price "${value}": the unit is incomplete` };
  }
  const tokens = (countText === undefined ? 1 : Number(countText)) *
    (scale === undefined ? 1 : UNIT_TOKENS[scale.toLowerCase()]);
  if (!(tokens > 0)) {
    return { ok: false, message: `Cannot parse price "${value}": the unit is zero tokens` };
  }
  return checked(amount * 1e12 / tokens, value);
}

function fromBare(amount: number, unit: BarePriceUnit, shown: string): ParsedPrice {
  return checked(unit === "dollars_per_1k" ? amount * 1e9 : amount, shown);
}

function checked(microsPerMillion: number, shown: string): ParsedPrice {
  if (!Number.isFinite(microsPerMillion)) {
    return { ok: false, message: `Cannot parse price "${shown}": not a finite number` };
  }
  if (microsPerMillion < 0) {
    return { ok: false, message: `Price "${shown}" must not be negative` };
  }
  return { ok: true, microsPerMillion: Math.round(microsPerMillion) || 0 }; // no -0
}
