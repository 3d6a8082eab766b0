/**
 * `[transcoder]` (spec 04 §7.1, 02 §12): OpenAI ⇄ Anthropic translation.
 * Every key of the spec is accepted so existing configs load; the policy
 * tables EggPool does not act on yet stay loose.
 */
import { z } from "zod";
import { looseTable, num } from "./schema_fields.ts";

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
