/**
 * Shared shapes of the OpenAI Chat Completions ⇄ Anthropic Messages
 * transcoder (spec 04 §7): settings from `[transcoder]`, the losses a request
 * translation reports, and the per-request context both directions share.
 */

/** `[transcoder]` as the data plane uses it (absent when `enabled = false`). */
export interface TranscoderSettings {
  /** `warn` drops what cannot be carried and says so; `reject` answers 400 instead. */
  lossPolicy: "warn" | "reject";
  /** Native accounts first; transcoded ones only when no native account can serve. */
  preferNative: boolean;
  /** `[transcoder.features]`: images are carried only with `vision`. */
  vision: boolean;
  /** Reasoning effort ⇄ thinking budget only with `thinking`. */
  thinking: boolean;
  /** `thinking_budget_defaults`: effort → Anthropic `budget_tokens`. */
  budgets: Readonly<Record<"low" | "medium" | "high", number>>;
  /**
   * `[model_capabilities]` image input of the target model, when stated: which
   * image sources it takes. Unset, `vision` decides for both.
   */
  images?: Readonly<{ base64: boolean; url: boolean }>;
  /** The target model's `supported_efforts`, when stated: a budget maps to the nearest. */
  efforts?: readonly ("low" | "medium" | "high")[];
}

/** The spec defaults (04 §7.1), with the transcoder on. */
export const DEFAULT_TRANSCODER: TranscoderSettings = {
  lossPolicy: "warn",
  preferNative: true,
  vision: false,
  thinking: false,
  budgets: { low: 1024, medium: 4096, high: 16384 },
};

/** One field a translation could not carry. */
export interface Loss {
  /** The request field, as the client spelled it (`top_k`, `messages[2].content[1]`). */
  field: string;
  /** Why: the target has no such thing, or a feature flag keeps it off. */
  kind: "unsupported" | "feature_disabled" | "invalid";
}

/** What a request translation hands to the response side. */
export interface TranslationContext {
  /** The client asked OpenAI `stream_options.include_usage`. */
  includeUsage: boolean;
  /** Name of the tool that stands in for `response_format: json_schema` (its input is the answer). */
  forcedTool?: string;
  /** Model id the client asked for, echoed in responses. */
  model: string;
  /**
   * Reasoning text travels between the protocols (`[transcoder.features] thinking`).
   * Off, it is left out of answers: an OpenAI account's reasoning has no Anthropic
   * signature, and a client that sent it back to an Anthropic account would be refused.
   */
  reasoning?: boolean;
}

/** A translated request body with what was lost on the way. */
export interface TranslatedRequest {
  body: Record<string, unknown>;
  losses: Loss[];
  context: TranslationContext;
}

/** Narrows to a plain object. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Record<string, unknown>
    : undefined;
}

/** True when a request field is present with a value that means something (not null/undefined). */
export function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** The warning header value: `field (kind)` items, at most `max`, then a count of the rest. */
export function describeLosses(losses: readonly Loss[], max = 5): string {
  // Field names can come from the client: keep them printable ASCII, as a header must be.
  const shown = losses.slice(0, max).map((l) =>
    `${l.field.replace(/[^\x20-\x7e]/g, "?").slice(0, 100)} (${l.kind})`
  );
  const more = losses.length - shown.length;
  return more > 0 ? `${shown.join(", ")}, ${more} more` : shown.join(", ");
}

/**
 * The distinct fields of `losses` for the stats, in first-seen order: indexes
 * folded (`messages[3].content[1]` → `messages[].content[]`) so the same field
 * counts as one name, printable ASCII only, each cut at `maxChars`, at most
 * `max` names.
 */
export function lossFieldNames(losses: readonly Loss[], max: number, maxChars: number): string[] {
  const names: string[] = [];
  for (const l of losses) {
    if (names.length >= max) break;
    const name = l.field.replace(/\[\d+\]/g, "[]").replace(/[^\x20-\x7e]/g, "?").slice(0, maxChars);
    if (!names.includes(name)) names.push(name);
  }
  return names;
}
