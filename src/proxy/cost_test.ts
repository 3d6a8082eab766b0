import assert from "node:assert/strict";
import {
  computeCost,
  GENERIC_PRICE,
  MAX_REQUEST_COST_MICROS,
  type Price,
  type TokenCounts,
} from "./cost.ts";
import { parsePrice } from "../core/price.ts";
import { usageFromJson } from "./usage.ts";

function tokens(partial: Partial<TokenCounts>): TokenCounts {
  return { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, ...partial };
}

// $3 / $15 per million, cache read $0.30, cache write $3.75.
const SONNET: Price = {
  inputMicrosPerMillion: 3_000_000,
  outputMicrosPerMillion: 15_000_000,
  cacheReadMicrosPerMillion: 300_000,
  cacheWriteMicrosPerMillion: 3_750_000,
};

Deno.test("computeCost() is zero and unknown without tokens", () => {
  assert.deepEqual(computeCost(tokens({}), SONNET), { costMicros: 0, exactness: "unknown" });
  assert.deepEqual(computeCost(tokens({}), undefined), { costMicros: 0, exactness: "unknown" });
});

Deno.test("computeCost() prices every category of an Anthropic response", () => {
  const usage = tokens({
    inputTokens: 14,
    outputTokens: 89,
    cacheReadTokens: 10_240,
    cacheWriteTokens: 2_048,
  });
  // 14×3 + 89×15 + 10240×0.3 + 2048×3.75 = 12129 µ$
  assert.deepEqual(computeCost(usage, SONNET), { costMicros: 12_129, exactness: "derived" });
});

Deno.test("computeCost() charges OpenAI cached tokens once, at the cache-read price", () => {
  const usage = usageFromJson("openai", {
    usage: {
      prompt_tokens: 2150,
      completion_tokens: 412,
      prompt_tokens_details: { cached_tokens: 1920 },
      completion_tokens_details: { reasoning_tokens: 320 },
    },
  })!;
  const price: Price = {
    inputMicrosPerMillion: 1_100_000,
    outputMicrosPerMillion: 4_400_000,
    cacheReadMicrosPerMillion: 275_000,
  };
  // 230×1.1 + 1920×0.275 + 412×4.4 = 253 + 528 + 1812.8 = 2593.8 → 2594 µ$
  assert.deepEqual(computeCost(usage, price), { costMicros: 2594, exactness: "derived" });
});

Deno.test("computeCost() uses the generic estimate without a price", () => {
  assert.deepEqual(computeCost(tokens({ inputTokens: 1000, outputTokens: 500 }), undefined), {
    costMicros: 10_500,
    exactness: "estimated",
  });
  const cached = tokens({ cacheReadTokens: 10_000, cacheWriteTokens: 2_000 });
  assert.deepEqual(computeCost(cached, undefined), { costMicros: 10_500, exactness: "estimated" });
});

Deno.test("computeCost() fills missing categories with fallback rates as partial", () => {
  const price: Price = { inputMicrosPerMillion: 1_000_000, outputMicrosPerMillion: 2_000_000 };
  const usage = tokens({ inputTokens: 1000, outputTokens: 1000, cacheReadTokens: 10_000 });
  // 1000×1 + 1000×2 + 10000×0.30 (fallback) = 1000 + 2000 + 3000
  assert.deepEqual(computeCost(usage, price), { costMicros: 6000, exactness: "partial" });
});

Deno.test("computeCost() ignores prices of categories with no tokens", () => {
  const price: Price = { inputMicrosPerMillion: 1_000_000 };
  assert.deepEqual(computeCost(tokens({ inputTokens: 2000 }), price), {
    costMicros: 2000,
    exactness: "derived",
  });
  const onlyCachePrice: Price = { cacheReadMicrosPerMillion: 100_000 };
  assert.deepEqual(computeCost(tokens({ inputTokens: 1000 }), onlyCachePrice), {
    costMicros: 3000,
    exactness: "estimated",
  });
});

Deno.test("computeCost() treats invalid rates as missing", () => {
  const price: Price = { inputMicrosPerMillion: Number.NaN, outputMicrosPerMillion: 1_000_000 };
  const usage = tokens({ inputTokens: 1000, outputTokens: 1000 });
  assert.deepEqual(computeCost(usage, price), { costMicros: 4000, exactness: "partial" });
  const negative: Price = { inputMicrosPerMillion: -5, outputMicrosPerMillion: 1_000_000 };
  assert.deepEqual(computeCost(usage, negative), { costMicros: 4000, exactness: "partial" });
});

Deno.test("computeCost() distrusts rates above $1000 per million", () => {
  const price: Price = { inputMicrosPerMillion: 1_000_000_001, outputMicrosPerMillion: 1 };
  assert.deepEqual(computeCost(tokens({ inputTokens: 1000, outputTokens: 1000 }), price), {
    costMicros: 18_000,
    exactness: "estimated",
  });
  const atLimit: Price = { inputMicrosPerMillion: 1_000_000_000 };
  assert.deepEqual(computeCost(tokens({ inputTokens: 10 }), atLimit), {
    costMicros: 10_000,
    exactness: "derived",
  });
});

Deno.test("computeCost() rounds half up, once", () => {
  const half: Price = { inputMicrosPerMillion: 500_000, outputMicrosPerMillion: 499_999 };
  assert.equal(computeCost(tokens({ inputTokens: 1 }), half).costMicros, 1);
  assert.equal(computeCost(tokens({ outputTokens: 1 }), half).costMicros, 0);
  // Rounding each category alone would give 0 + 0; together they are 0.8 → 1.
  const price: Price = { inputMicrosPerMillion: 400_000, outputMicrosPerMillion: 400_000 };
  assert.equal(computeCost(tokens({ inputTokens: 1, outputTokens: 1 }), price).costMicros, 1);
  const third: Price = { inputMicrosPerMillion: 333_333 };
  assert.deepEqual(computeCost(tokens({ inputTokens: 3 }), third).costMicros, 1);
});

Deno.test("computeCost() marks a priced cost that rounds to zero as estimated", () => {
  const cheap: Price = { inputMicrosPerMillion: 100_000 };
  assert.deepEqual(computeCost(tokens({ inputTokens: 1 }), cheap), {
    costMicros: 0,
    exactness: "estimated",
  });
  const free: Price = { inputMicrosPerMillion: 0, outputMicrosPerMillion: 0 };
  assert.deepEqual(computeCost(tokens({ inputTokens: 500, outputTokens: 20 }), free), {
    costMicros: 0,
    exactness: "derived",
  });
});

Deno.test("computeCost() caps one request at $250", () => {
  const price: Price = { outputMicrosPerMillion: 1_000_000_000 };
  assert.deepEqual(computeCost(tokens({ outputTokens: 1_000_000 }), price), {
    costMicros: MAX_REQUEST_COST_MICROS,
    exactness: "derived",
  });
  assert.equal(
    computeCost(tokens({ outputTokens: 1000 }), price, { maxCostMicros: 5000 }).costMicros,
    5000,
  );
  assert.equal(
    computeCost(tokens({ inputTokens: 1e9 }), undefined).costMicros,
    MAX_REQUEST_COST_MICROS,
  );
});

Deno.test("computeCost() stays exact past 2^53", () => {
  const usage = tokens({ outputTokens: 20_000_001, inputTokens: 3 });
  const price: Price = { outputMicrosPerMillion: 999_999_999, inputMicrosPerMillion: 7 };
  const exact = (20_000_001n * 999_999_999n + 3n * 7n + 500_000n) / 1_000_000n;
  assert.deepEqual(computeCost(usage, price, { maxCostMicros: Infinity }), {
    costMicros: Number(exact),
    exactness: "derived",
  });
});

Deno.test("computeCost() falls back when the result is implausible per token", () => {
  const fallbackPrice = { ...GENERIC_PRICE, cacheReadMicrosPerMillion: 5_000_000_000 };
  const usage = tokens({ inputTokens: 10, cacheReadTokens: 10 });
  const result = computeCost(usage, { inputMicrosPerMillion: 1_000_000 }, { fallbackPrice });
  assert.equal(result.exactness, "estimated");
});

Deno.test("parsePrice() reads bare numbers in the key's own unit", () => {
  assert.deepEqual(parsePrice(0.003, "dollars_per_1k"), { ok: true, microsPerMillion: 3_000_000 });
  assert.deepEqual(parsePrice("0.003", "dollars_per_1k"), {
    ok: true,
    microsPerMillion: 3_000_000,
  });
  assert.deepEqual(parsePrice(300_000, "micros_per_million"), {
    ok: true,
    microsPerMillion: 300_000,
  });
  assert.deepEqual(parsePrice(" 3750000 ", "micros_per_million"), {
    ok: true,
    microsPerMillion: 3_750_000,
  });
  assert.deepEqual(parsePrice("$0.015", "dollars_per_1k"), {
    ok: true,
    microsPerMillion: 15_000_000,
  });
  assert.deepEqual(parsePrice(0, "dollars_per_1k"), { ok: true, microsPerMillion: 0 });
});

Deno.test("parsePrice() reads strings with their own unit", () => {
  const cases: [string, number][] = [
    ["$3 / 1M", 3_000_000],
    ["$3/M", 3_000_000],
    ["3 USD per 1M tokens", 3_000_000],
    ["$15/MTok", 15_000_000],
    ["$1.25 per million tokens", 1_250_000],
    ["0.000003 per token", 3_000_000],
    ["2.5e-6/token", 2_500_000],
    ["$0.5 / 1K", 500_000_000],
    ["$0.3/1000 tokens", 300_000_000],
    ["0.30 $ / 1M", 300_000],
  ];
  for (const [text, micros] of cases) {
    for (const unit of ["dollars_per_1k", "micros_per_million"] as const) {
      assert.deepEqual(parsePrice(text, unit), { ok: true, microsPerMillion: micros }, text);
    }
  }
});

Deno.test("parsePrice() rejects negative, non-finite and unreadable prices", () => {
  const bad: unknown[] = [
    -1,
    "-0.5",
    "$-3 / 1M",
    Number.NaN,
    Infinity,
    "abc",
    "3 /",
    "3 per",
    "$3 / 0M",
    "3 per fortnight",
    true,
    null,
    undefined,
    { amount: 3 },
  ];
  for (const value of bad) {
    const result = parsePrice(value, "dollars_per_1k");
    assert.equal(result.ok, false, String(value));
    if (!result.ok) assert.doesNotMatch(result.message, /\.$/);
  }
  assert.match(
    (parsePrice("-2", "micros_per_million") as { message: string }).message,
    /must not be negative/,
  );
  assert.equal(parsePrice("$0.30", "micros_per_million").ok, false);
});
