/**
 * `[model_capabilities."<model>"]` (spec 02 §12, 03 §4 gate 10): what an
 * operator states about one model's thinking and image input, globally or
 * under one provider (the provider's table wins field by field, as with
 * `model_overrides`).
 *
 * Two things read it. The routing gate leaves out a provider whose model is
 * known not to think when the request asks for thinking (or asks for an
 * effort the model does not take), and refuses the request with a
 * capability error when no provider is left. The transcoder carries thinking
 * and images to a model that declares them even when `[transcoder.features]`
 * keeps them off for every other model, with the model's own effort budgets.
 */
import type { Protocol } from "../core/protocol.ts";
import { asTable, isTable } from "../config/_table.ts";

export type ThinkingStatus = "supported" | "unsupported" | "unknown";
export type Effort = "low" | "medium" | "high";

const EFFORTS: readonly Effort[] = ["low", "medium", "high"];
const STATUSES: readonly ThinkingStatus[] = ["supported", "unsupported", "unknown"];

/** One model's stated capabilities; a field left out is not known. */
export interface ModelCapability {
  thinking?: {
    status: ThinkingStatus;
    /** `supported_efforts`; absent: every effort. */
    efforts?: readonly Effort[];
    /** `effort_to_budget_tokens`. */
    budgets?: Partial<Record<Effort, number>>;
    /** `budget_tokens_min` / `budget_tokens_max`. */
    minBudget?: number;
    maxBudget?: number;
  };
  /** `multimodal.image_input`: `true`/`false`, or `{ base64, url }`. */
  images?: { base64: boolean; url: boolean };
}

/** A problem in one capability table, at a key path below `model_capabilities.<model>`. */
export interface CapabilityIssue {
  segments: (string | number)[];
  message: string;
}

/**
 * Sub-keys that load (configs written for the Python EggPool carry them) but
 * that no part of this version reads; `eggpool check-config` names them.
 */
const INERT: readonly (readonly string[])[] = [
  ["transcoding"],
  ["multimodal", "document_input"],
  ["multimodal", "audio_input"],
  ["multimodal", "non_text_tool_result"],
  ["multimodal", "max_serialized_request_bytes"],
];

/** Parses one `[model_capabilities."<model>"]` table. */
export function parseCapability(
  raw: Record<string, unknown>,
): { capability: ModelCapability; errors: CapabilityIssue[]; inert: CapabilityIssue[] } {
  const errors: CapabilityIssue[] = [];
  const inert: CapabilityIssue[] = [];
  const capability: ModelCapability = {};
  const thinking = asTable(raw.thinking);
  if (raw.thinking !== undefined && thinking === undefined) {
    errors.push({ segments: ["thinking"], message: "must be a table" });
  }
  if (thinking !== undefined) {
    const status = thinking.status ?? "unknown";
    if (typeof status !== "string" || !STATUSES.includes(status as ThinkingStatus)) {
      errors.push({
        segments: ["thinking", "status"],
        message: `must be one of ${STATUSES.map((s) => `"${s}"`).join(", ")}`,
      });
    } else {
      capability.thinking = { status: status as ThinkingStatus };
      parseThinking(thinking, capability.thinking, errors);
    }
  }
  const multimodal = asTable(raw.multimodal);
  const image = multimodal?.image_input;
  if (typeof image === "boolean") capability.images = { base64: image, url: image };
  else if (isTable(image)) {
    const t = image;
    const flag = (k: string) => {
      if (t[k] === undefined) return false;
      if (typeof t[k] === "boolean") return t[k] as boolean;
      errors.push({ segments: ["multimodal", "image_input", k], message: "must be true or false" });
      return false;
    };
    capability.images = { base64: flag("base64"), url: flag("url") };
  } else if (image !== undefined) {
    errors.push({
      segments: ["multimodal", "image_input"],
      message: "must be true, false or a table { base64, url }",
    });
  }
  for (const path of INERT) {
    let v: unknown = raw;
    for (const k of path) v = asTable(v)?.[k];
    if (v !== undefined) {
      inert.push({ segments: [...path], message: "is accepted but has no effect in this version" });
    }
  }
  return { capability, errors, inert };
}

function parseThinking(
  t: Record<string, unknown>,
  out: NonNullable<ModelCapability["thinking"]>,
  errors: CapabilityIssue[],
): void {
  if (t.supported_efforts !== undefined) {
    const list = t.supported_efforts;
    if (!Array.isArray(list) || list.some((e) => !EFFORTS.includes(e as Effort))) {
      errors.push({
        segments: ["thinking", "supported_efforts"],
        message: 'must be a list of "low", "medium", "high"',
      });
    } else out.efforts = list as Effort[];
  }
  const budgets = asTable(t.effort_to_budget_tokens);
  if (t.effort_to_budget_tokens !== undefined && budgets === undefined) {
    errors.push({ segments: ["thinking", "effort_to_budget_tokens"], message: "must be a table" });
  }
  if (budgets !== undefined) {
    out.budgets = {};
    for (const [k, v] of Object.entries(budgets)) {
      if (!EFFORTS.includes(k as Effort)) {
        errors.push({
          segments: ["thinking", "effort_to_budget_tokens", k],
          message: 'is not an effort; use "low", "medium" or "high"',
        });
      } else if (!positiveInt(v)) {
        errors.push({
          segments: ["thinking", "effort_to_budget_tokens", k],
          message: "must be a positive integer",
        });
      } else out.budgets[k as Effort] = v as number;
    }
  }
  for (
    const [key, field] of [["budget_tokens_min", "minBudget"], [
      "budget_tokens_max",
      "maxBudget",
    ]] as const
  ) {
    if (t[key] === undefined) continue;
    if (!positiveInt(t[key])) {
      errors.push({ segments: ["thinking", key], message: "must be a positive integer" });
    } else out[field] = t[key] as number;
  }
  if (out.minBudget !== undefined && out.maxBudget !== undefined && out.minBudget > out.maxBudget) {
    errors.push({
      segments: ["thinking", "budget_tokens_min"],
      message: "must not be above budget_tokens_max",
    });
  }
}

/** Capabilities by provider and model, from the config's global and per-provider tables. */
export class CapabilityBook {
  readonly #global = new Map<string, ModelCapability>();
  readonly #scoped = new Map<string, ModelCapability>();

  constructor(
    global: Readonly<Record<string, Record<string, unknown>>>,
    providers: Readonly<
      Record<string, { model_capabilities: Record<string, Record<string, unknown>> }>
    >,
  ) {
    for (const [model, raw] of Object.entries(global)) {
      this.#global.set(model, parseCapability(raw).capability);
    }
    for (const [providerId, p] of Object.entries(providers)) {
      for (const [model, raw] of Object.entries(p.model_capabilities)) {
        this.#scoped.set(`${providerId}\n${model}`, parseCapability(raw).capability);
      }
    }
  }

  /** True when no model states anything (the request path then skips every check). */
  get empty(): boolean {
    return this.#global.size === 0 && this.#scoped.size === 0;
  }

  /** What is stated for `modelId` on `providerId`: the provider's fields over the global ones. */
  get(providerId: string, modelId: string): ModelCapability | undefined {
    const scoped = this.#scoped.get(`${providerId}\n${modelId}`);
    const global = this.#global.get(modelId);
    if (scoped === undefined || global === undefined) return scoped ?? global;
    return { thinking: scoped.thinking ?? global.thinking, images: scoped.images ?? global.images };
  }
}

/**
 * The image sources every one of several providers takes: `into` (undefined
 * before the first stated one) narrowed by `next`; nothing stated stays undefined.
 */
export function commonImages(
  into: ModelCapability["images"],
  next: ModelCapability["images"],
): ModelCapability["images"] {
  if (next === undefined) return into;
  if (into === undefined) return { ...next };
  return { base64: into.base64 && next.base64, url: into.url && next.url };
}

/** The thinking a request asks for, as the client sent it. */
export interface ThinkingAsk {
  /** The effort asked by name; undefined for a budget or thinking without a level. */
  effort?: Effort;
  /** The fields that asked, for the capability error. */
  fields: string[];
}

/** Whether a chat or messages body asks for thinking, and at which effort. */
export function thinkingAsked(
  protocol: Protocol,
  body: Record<string, unknown>,
): ThinkingAsk | undefined {
  if (protocol === "openai") {
    const effort = body.reasoning_effort ?? asTable(body.reasoning)?.effort;
    if (typeof effort !== "string" || effort === "none" || effort === "minimal") return undefined;
    const field = body.reasoning_effort !== undefined ? "reasoning_effort" : "reasoning.effort";
    return {
      effort: EFFORTS.includes(effort as Effort) ? effort as Effort : undefined,
      fields: [field],
    };
  }
  const thinking = asTable(body.thinking);
  if (thinking === undefined || thinking.type === "disabled") return undefined;
  // A budget is not an effort: it maps to the nearest effort a model takes
  // (budget resolution is lenient), so only the status can refuse it.
  return { fields: ["thinking"] };
}

/** Why a provider cannot take the thinking asked, or undefined when it can (or nothing is known). */
export function thinkingRefusal(
  capability: ModelCapability | undefined,
  ask: ThinkingAsk,
): string | undefined {
  const t = capability?.thinking;
  if (t === undefined) return undefined;
  if (t.status === "unsupported") return "unsupported";
  if (ask.effort !== undefined && t.efforts !== undefined && !t.efforts.includes(ask.effort)) {
    return `effort '${ask.effort}' not among ${t.efforts.join("/")}`;
  }
  return undefined;
}

/** The budget for `effort` on a model, its own mapping first, kept within its bounds. */
export function modelBudget(
  thinking: NonNullable<ModelCapability["thinking"]>,
  effort: Effort,
  defaults: Readonly<Record<Effort, number>>,
): number {
  let budget = thinking.budgets?.[effort] ?? defaults[effort];
  if (thinking.minBudget !== undefined) budget = Math.max(budget, thinking.minBudget);
  if (thinking.maxBudget !== undefined) budget = Math.min(budget, thinking.maxBudget);
  return budget;
}

/** The supported effort nearest to `effort` (ties go to the lower one). */
export function nearestEffort(effort: Effort, allowed: readonly Effort[] | undefined): Effort {
  if (allowed === undefined || allowed.length === 0 || allowed.includes(effort)) return effort;
  const at = EFFORTS.indexOf(effort);
  let best = allowed[0];
  for (const e of allowed) {
    if (Math.abs(EFFORTS.indexOf(e) - at) < Math.abs(EFFORTS.indexOf(best) - at)) best = e;
  }
  return best;
}

function positiveInt(v: unknown): boolean {
  return typeof v === "number" && Number.isInteger(v) && v > 0;
}
