/** `[transcoder]` from the resolved config as the data plane's settings. */
import type { ResolvedConfig } from "../../config/schema.ts";
import type { TranscoderSettings } from "./types.ts";

/** The settings, or undefined when `[transcoder] enabled = false`. */
export function transcoderSettings(
  t: ResolvedConfig["transcoder"],
): TranscoderSettings | undefined {
  if (!t.enabled) return undefined;
  return {
    lossPolicy: t.loss_policy,
    preferNative: t.prefer_native,
    vision: t.features.vision,
    thinking: t.features.thinking,
    budgets: { ...t.thinking_budget_defaults },
  };
}
