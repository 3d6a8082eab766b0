/**
 * Price values as operators write them in the config (spec 02 §11): a bare
 * number in the key's own unit, or a string with its unit, such as
 * `"$3 / 1M"` or `"0.000003 per token"`. Everything becomes microdollars per
 * million tokens, the one unit stored and computed with.
 */

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
