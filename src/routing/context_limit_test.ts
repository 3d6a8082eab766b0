import assert from "node:assert/strict";
import {
  checkContextLimit,
  effectiveLimits,
  estimateInputTokens,
  inputTokenBound,
  requestedOutputTokens,
  structuralTokens,
} from "./context_limit.ts";

Deno.test("structuralTokens() counts strings, keys, numbers and nesting", () => {
  assert.equal(structuralTokens("abcdefgh"), 2);
  assert.equal(structuralTokens("héllo"), 2); // 4 ASCII → 1, é is 2 bytes → 1
  assert.equal(structuralTokens([1234, true, null]), 3);
  // 1 for the object, "ab" key 1 + 1, value "abcd" 1.
  assert.equal(structuralTokens({ ab: "abcd" }), 4);
  let deep: unknown = "x";
  for (let i = 0; i < 100; i++) deep = [deep];
  assert.equal(structuralTokens(deep), 0, "nesting past 64 levels is not walked");
});

Deno.test("estimateInputTokens() never goes under 1 000 or bytes/8", () => {
  assert.equal(estimateInputTokens({ model: "m" }, 20), 1_000);
  assert.equal(estimateInputTokens({}, 80_000), 10_000);
  assert.equal(estimateInputTokens({}, 80_000, 64), 10_064);
  const big = { messages: [{ role: "user", content: "word ".repeat(10_000) }] };
  assert.ok(estimateInputTokens(big, 10) >= 12_500);
});

Deno.test("requestedOutputTokens() reads each protocol's field", () => {
  assert.equal(requestedOutputTokens("anthropic", { max_tokens: 512 }), 512);
  assert.equal(requestedOutputTokens("openai", { max_completion_tokens: 9, max_tokens: 5 }), 9);
  assert.equal(requestedOutputTokens("openai", { max_tokens: 5 }), 5);
  assert.equal(requestedOutputTokens("openai", { max_tokens: true }), undefined);
  assert.equal(requestedOutputTokens("openai", { max_tokens: 1.5 }), undefined);
  assert.equal(requestedOutputTokens("anthropic", { max_tokens: 0 }), undefined);
});

Deno.test("effectiveLimits() takes the field-wise minimum of enforcing entries", () => {
  assert.deepEqual(
    effectiveLimits([
      { maxContextTokens: 200_000, maxOutputTokens: 8_000 },
      { maxContextTokens: 128_000, maxInputTokens: 100_000 },
      { maxContextTokens: 1_000, enforceContextLimit: false },
    ]),
    { maxContextTokens: 128_000, maxInputTokens: 100_000, maxOutputTokens: 8_000 },
  );
  assert.equal(effectiveLimits([{}]), undefined);
  assert.equal(effectiveLimits([{ maxContextTokens: 5, enforceContextLimit: false }]), undefined);
});

Deno.test("checkContextLimit() rejects with the spec's message", () => {
  const body = { model: "m", max_tokens: 4_000, messages: [{ role: "user", content: "hi" }] };
  const r = checkContextLimit({
    modelId: "m",
    protocol: "openai",
    entries: [{ maxContextTokens: 4_500, maxOutputTokens: 8_000 }],
    body,
    bodyBytes: 80,
  });
  assert.equal(r.ok, false);
  assert.ok(!r.ok);
  assert.equal(
    r.message,
    "Context limit exceeded: model 'm', max context 4500, max output 8000, " +
      "estimated input 1000, requested output 4000",
  );
});

Deno.test("checkContextLimit() passes requests that fit or have no known limit", () => {
  const body = { model: "m", messages: [] };
  assert.equal(
    checkContextLimit({ modelId: "m", protocol: "openai", entries: [], body, bodyBytes: 10 }).ok,
    true,
  );
  assert.equal(
    checkContextLimit({
      modelId: "m",
      protocol: "anthropic",
      entries: [{ maxContextTokens: 200_000, maxOutputTokens: 1_000 }],
      body: { ...body, max_tokens: 1_000 },
      bodyBytes: 10,
    }).ok,
    true,
  );
  const over = checkContextLimit({
    modelId: "m",
    protocol: "anthropic",
    entries: [{ maxOutputTokens: 1_000 }],
    body: { ...body, max_tokens: 1_001 },
    bodyBytes: 10,
  });
  assert.equal(over.ok, false);
});

Deno.test("the body's size bounds the structural estimate, so a body that fits by size is not walked", () => {
  const samples: unknown[] = [
    { model: "m", messages: [{ role: "user", content: "hi" }] },
    { a: [1, 2.5, -3e21, true, false, null], b: { "": "", "é": "日本語テキスト", "🙂": "🙂🙂" } },
    { messages: Array.from({ length: 50 }, (_, i) => ({ role: "user", content: "x".repeat(i) })) },
    { tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }] },
    ["a", ["b", ["c", [[[[]]]]]], {}],
  ];
  for (const body of samples) {
    const bytes = new TextEncoder().encode(JSON.stringify(body)).byteLength;
    assert.ok(
      structuralTokens(body) <= bytes,
      `${JSON.stringify(body)}: ${structuralTokens(body)} > ${bytes}`,
    );
    assert.ok(estimateInputTokens(body, bytes, 7) <= inputTokenBound(bytes, 7));
  }
  // A huge body under a large limit passes without the walk; over a small one it is measured.
  const body = { model: "m", messages: [{ role: "user", content: "word ".repeat(2_000) }] };
  const bytes = JSON.stringify(body).length;
  const check = (maxContextTokens: number) =>
    checkContextLimit({
      modelId: "m",
      protocol: "openai",
      entries: [{ maxContextTokens }],
      body,
      bodyBytes: bytes,
    });
  const roomy = check(200_000);
  assert.equal(roomy.ok, true);
  assert.equal(roomy.estimatedInput, undefined, "decided from the size alone");
  const tight = check(5_000);
  assert.equal(tight.ok, true);
  assert.equal(tight.estimatedInput, estimateInputTokens(body, bytes));
});
