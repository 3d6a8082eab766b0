/**
 * `[transcoder]` (spec 04 §7.1, 02 §12): OpenAI ⇄ Anthropic translation.
 * Every key of the spec is accepted so existing configs load; the policy
 * tables EggPool does not act on yet stay loose.
 */
import { z } from "zod";
import { looseTable, num } from "./schema_fields.ts";
import { asTable } from "./_table.ts";

const FeaturesSchema = z.object({
  tools: z.boolean().default(true),
  vision: z.boolean().default(false),
  thinking: z.boolean().default(false),
  structured_outputs: z.boolean().default(false),
  anthropic_primitives: z.boolean().default(false),
});

const BudgetsSchema = z.object({
  low: num({ int: true, min: 1 }).default(1024),
  medium: num({ int: true, min: 1 }).default(4096),
  high: num({ int: true, min: 1 }).default(16384),
});

export const TranscoderSchema = z.object({
  enabled: z.boolean().default(true),
  loss_policy: z.enum(["warn", "reject"]).default("warn"),
  prefer_native: z.boolean().default(true),
  features: FeaturesSchema.prefault({}),
  thinking_budget_defaults: BudgetsSchema.prefault({}),
  budget_resolution_policy: z.enum(["lenient", "strict"]).default("lenient"),
  openai_reasoning_fields: looseTable().default({}),
  capability_policy: looseTable().default({}),
  provider_control_policy: looseTable().default({}),
});

/** A config problem at a key path (the shape `schema_rules.ts` collects). */
export interface TranscoderIssue {
  segments: string[];
  message: string;
}

/** Spec defaults of the policy keys this version follows but cannot change. */
const FIXED: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  openai_reasoning_fields: {
    non_stream: ["reasoning_content"],
    stream_delta: ["reasoning"],
    emit_compat_aliases: false,
  },
  capability_policy: {
    unsupported_thinking: "reject",
    unknown_thinking: "reject",
    mixed_collapsed_thinking: "filter",
  },
  provider_control_policy: {
    unsupported_control: "reject",
    unknown_contract: "allow_with_warning",
    allow_compatibility_retry: false,
  },
};

/**
 * `[transcoder]` values that load for compatibility but that this version
 * cannot honour: refused with the key, not accepted and ignored.
 */
export function unsupportedTranscoderKeys(raw: unknown): TranscoderIssue[] {
  const t = asTable(raw);
  if (t === undefined) return [];
  const out: TranscoderIssue[] = [];
  if (asTable(t.features)?.anthropic_primitives === true) {
    out.push({
      segments: ["transcoder", "features", "anthropic_primitives"],
      message: "carrying Anthropic-only primitives through OpenAI accounts is not supported: " +
        "remove the key or set it to false",
    });
  }
  if (t.budget_resolution_policy === "strict") {
    out.push({
      segments: ["transcoder", "budget_resolution_policy"],
      message: 'only "lenient" is supported: a thinking budget maps to the nearest effort',
    });
  }
  for (const [table, defaults] of Object.entries(FIXED)) {
    const given = asTable(t[table]);
    if (given === undefined) continue;
    for (const [key, value] of Object.entries(given)) {
      if (key in defaults && JSON.stringify(value) === JSON.stringify(defaults[key])) continue;
      out.push({
        segments: ["transcoder", table, key],
        message: `only the default ${
          key in defaults ? JSON.stringify(defaults[key]) : "(no such key)"
        } is supported; remove the key`,
      });
    }
  }
  return out;
}
