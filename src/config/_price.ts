/**
 * Price values in `model_overrides` (spec 02 §11): a number, or a string such
 * as `"$3 / 1M"`, `"0.000003 per token"` or `"0.003"`.
 */

import { z } from "zod";

const TOKENS_PER_UNIT: Readonly<Record<string, number>> = {
  "": 1,
  "1": 1,
  k: 1e3,
  "1k": 1e3,
  thousand: 1e3,
  "1000": 1e3,
  m: 1e6,
  "1m": 1e6,
  million: 1e6,
  "1000000": 1e6,
};

interface PriceText {
  amount: number;
  /** The text named a currency sign or a unit, so `amount` is in dollars. */
  dollars: boolean;
  /** How many tokens `amount` buys, when the text said so. */
  perTokens?: number;
}

function parsePriceText(text: string): PriceText | undefined {
  let s = text.trim().toLowerCase();
  let dollars = false;
  if (s.startsWith("$")) {
    dollars = true;
    s = s.slice(1).trim();
  }
  const m = /^(\d+(?:\.\d+)?(?:e[-+]?\d+)?|\.\d+)\s*(.*)$/.exec(s);
  if (!m) return undefined;
  const amount = Number(m[1]);
  if (!Number.isFinite(amount)) return undefined;
  if (m[2] === "") return { amount, dollars };
  const unit = /^(?:\/|per)\s*(.*)$/.exec(m[2]);
  if (!unit) return undefined;
  const key = unit[1].replace(/\s+/g, "").replace(/tokens?$/, "");
  const perTokens = TOKENS_PER_UNIT[key];
  if (perTokens === undefined) return undefined;
  return { amount, dollars: true, perTokens };
}

const PRICE_HINT = 'must be a non-negative price such as 0.003, "$3 / 1M" or "0.000003 per token"';

/** A price in dollars per 1K tokens; bare numbers are already per 1K. */
export function pricePer1k() {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    const parsed = typeof value === "number"
      ? { amount: value, dollars: true, perTokens: undefined }
      : parsePriceText(value);
    if (!parsed || !(parsed.amount >= 0)) {
      ctx.issues.push({ code: "custom", message: PRICE_HINT, input: value });
      return 0;
    }
    return parsed.perTokens === undefined ? parsed.amount : parsed.amount / parsed.perTokens * 1e3;
  });
}

/** A cache price in microdollars per million tokens; bare numbers are already µ$/M. */
export function microsPerMillion() {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    const parsed = typeof value === "number"
      ? { amount: value, dollars: false, perTokens: undefined }
      : parsePriceText(value);
    if (!parsed || !(parsed.amount >= 0)) {
      ctx.issues.push({ code: "custom", message: PRICE_HINT, input: value });
      return 0;
    }
    if (!parsed.dollars) return parsed.amount;
    const perTokens = parsed.perTokens ?? 1e6;
    return Math.round(parsed.amount / perTokens * 1e6 * 1e6);
  });
}
