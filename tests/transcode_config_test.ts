/** `[transcoder]`: the spec's keys load, bad values are refused with their path, settings map through. */
import assert from "node:assert/strict";
import { resolveConfig } from "../src/config/schema.ts";
import { transcoderSettings } from "../src/proxy/translate/settings.ts";

function resolve(transcoder: unknown) {
  return resolveConfig({ transcoder }, { defaultDatabasePath: "/db.sqlite3" });
}

Deno.test("[transcoder] defaults: on, warn, prefer_native, vision and thinking off", () => {
  const r = resolve(undefined);
  assert.ok(r.ok);
  assert.deepEqual(transcoderSettings(r.config.transcoder), {
    lossPolicy: "warn",
    preferNative: true,
    vision: false,
    thinking: false,
    budgets: { low: 1024, medium: 4096, high: 16384 },
  });
});

Deno.test("[transcoder] every spec key loads, and enabled = false turns the transcoder off", () => {
  const r = resolve({
    enabled: true,
    loss_policy: "reject",
    prefer_native: false,
    features: {
      tools: true,
      vision: true,
      thinking: true,
      structured_outputs: true,
      anthropic_primitives: false,
    },
    thinking_budget_defaults: { low: 512, medium: 2048, high: 8192 },
    budget_resolution_policy: "lenient",
    openai_reasoning_fields: {
      non_stream: ["reasoning_content"],
      stream_delta: ["reasoning"],
      emit_compat_aliases: false,
    },
    capability_policy: { unsupported_thinking: "reject" },
    provider_control_policy: { unknown_contract: "allow_with_warning" },
  });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  assert.deepEqual(transcoderSettings(r.config.transcoder), {
    lossPolicy: "reject",
    preferNative: false,
    vision: true,
    thinking: true,
    budgets: { low: 512, medium: 2048, high: 8192 },
  });
  const off = resolve({ enabled: false });
  assert.ok(off.ok);
  assert.equal(transcoderSettings(off.config.transcoder), undefined);
});

Deno.test("[transcoder] bad and unhonourable values are refused with their key path", () => {
  const r = resolve({
    loss_policy: "maybe",
    features: { anthropic_primitives: true, visoin: true },
    budget_resolution_policy: "strict",
    openai_reasoning_fields: { emit_compat_aliases: true },
  });
  assert.ok(!r.ok);
  const paths = r.errors.map((e) => e.segments.join("."));
  for (
    const p of [
      "transcoder.loss_policy",
      "transcoder.features.anthropic_primitives",
      "transcoder.features.visoin",
      "transcoder.budget_resolution_policy",
      "transcoder.openai_reasoning_fields.emit_compat_aliases",
    ]
  ) {
    assert.ok(paths.includes(p), `${p} in ${paths.join(", ")}`);
  }
});
