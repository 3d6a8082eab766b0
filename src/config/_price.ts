/**
 * Price keys of `model_overrides` (spec 02 §11). Values are parsed by
 * `core/price.ts` and resolved to microdollars per million tokens, the unit
 * the cost calculator uses, whatever unit the operator wrote.
 */

import { z } from "zod";
import { parsePrice } from "../core/price.ts";
import type { BarePriceUnit } from "../core/price.ts";

function price(bareUnit: BarePriceUnit) {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    const parsed = parsePrice(value, bareUnit);
    if (!parsed.ok) {
      ctx.issues.push({ code: "custom", message: parsed.message, input: value });
      return 0;
    }
    return parsed.microsPerMillion;
  });
}

/** A `*_price_per_1k` key: a bare number is dollars per 1K tokens. Resolves to µ$ per million. */
export function pricePer1k() {
  return price("dollars_per_1k");
}

/** A `cache_*_per_million_microdollars` key: a bare number is µ$ per million. Resolves to µ$ per million. */
export function microsPerMillion() {
  return price("micros_per_million");
}
