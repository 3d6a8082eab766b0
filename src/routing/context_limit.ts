/**
 * Context-limit preflight (spec 03 §8, spec 01 §3.1 step 7): estimate the
 * prompt's tokens from the request body and reject it before any upstream
 * call when it cannot fit the model's effective limits.
 */
import type { Protocol } from "../core/protocol.ts";

/** Known limits of a model at one provider (or the minimum across several). */
export interface ContextLimits {
  maxContextTokens?: number;
  maxInputTokens?: number;
  maxOutputTokens?: number;
}

/** A catalog entry's limit fields; `enforceContextLimit` undefined counts as true. */
export interface LimitedEntry extends ContextLimits {
  enforceContextLimit?: boolean;
}

/** The smallest estimate ever used: short prompts still carry a system overhead. */
const MIN_INPUT_ESTIMATE = 1_000;
/** Bytes per token of the plain-size floor. */
const BYTES_PER_TOKEN_FLOOR = 8;
/** Nesting deeper than this is not walked. */
const MAX_DEPTH = 64;

function stringTokens(s: string): number {
  let ascii = 0;
  let wideBytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) ascii++;
    else if (c < 0x800) wideBytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      // A surrogate pair is one 4-byte code point.
      wideBytes += 4;
      i++;
    } else wideBytes += 3;
  }
  return Math.ceil(ascii / 4) + Math.ceil(wideBytes / 2);
}

/** Structural token estimate of a JSON value (spec 03 §8). */
export function structuralTokens(value: unknown, depth = 0): number {
  if (depth > MAX_DEPTH) return 0;
  if (typeof value === "string") return stringTokens(value);
  if (typeof value === "number") return Math.ceil(String(value).length / 4);
  if (typeof value === "boolean" || value === null || value === undefined) return 1;
  if (Array.isArray(value)) {
    let n = 0;
    for (const item of value) n += structuralTokens(item, depth + 1);
    return n;
  }
  if (typeof value === "object") {
    let n = 1;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      n += stringTokens(k) + 1 + structuralTokens(v, depth + 1);
    }
    return n;
  }
  return 1;
}

/** `max(1000, structural, ceil(bytes / 8) + extra)`: deliberately generous, never under. */
export function estimateInputTokens(body: unknown, bodyBytes: number, extraTokens = 0): number {
  return Math.max(
    MIN_INPUT_ESTIMATE,
    structuralTokens(body),
    Math.ceil(bodyBytes / BYTES_PER_TOKEN_FLOOR) + extraTokens,
  );
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) && v > 0 ? v : undefined;
}

/** Output tokens the request asks for: Anthropic `max_tokens`; OpenAI `max_completion_tokens`, then `max_tokens`. */
export function requestedOutputTokens(
  protocol: Protocol,
  body: Record<string, unknown>,
): number | undefined {
  if (protocol === "anthropic") return positiveInt(body.max_tokens);
  return positiveInt(body.max_completion_tokens) ?? positiveInt(body.max_tokens);
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/**
 * The enforced limits across `entries`: field-wise minimum over entries that
 * enforce (the conservative choice for an unsuffixed model). Undefined when
 * nothing is enforced or no limit is known.
 */
export function effectiveLimits(entries: readonly LimitedEntry[]): ContextLimits | undefined {
  let out: ContextLimits | undefined;
  for (const e of entries) {
    if (e.enforceContextLimit === false) continue;
    out = {
      maxContextTokens: minDefined(out?.maxContextTokens, e.maxContextTokens),
      maxInputTokens: minDefined(out?.maxInputTokens, e.maxInputTokens),
      maxOutputTokens: minDefined(out?.maxOutputTokens, e.maxOutputTokens),
    };
  }
  if (
    out === undefined ||
    (out.maxContextTokens === undefined && out.maxInputTokens === undefined &&
      out.maxOutputTokens === undefined)
  ) return undefined;
  return out;
}

/** Input of {@linkcode checkContextLimit}. */
export interface ContextCheckInput {
  modelId: string;
  protocol: Protocol;
  /** Catalog entries in the request's provider scope. */
  entries: readonly LimitedEntry[];
  body: Record<string, unknown>;
  bodyBytes: number;
  /** Allowance for translated tool schemas when transcoding. */
  extraTokens?: number;
}

/**
 * The verdict; a rejection carries the spec's message for a 400. A pass
 * carries the estimate only when the body had to be walked to decide.
 */
export type ContextCheck =
  | { ok: true; estimatedInput?: number; limits?: ContextLimits }
  | {
    ok: false;
    message: string;
    estimatedInput: number;
    requestedOutput?: number;
    limits: ContextLimits;
  };

function exceeds(limits: ContextLimits, input: number, output: number | undefined): boolean {
  return (limits.maxInputTokens !== undefined && input > limits.maxInputTokens) ||
    (limits.maxOutputTokens !== undefined && output !== undefined &&
      output > limits.maxOutputTokens) ||
    (limits.maxContextTokens !== undefined && input + (output ?? 0) > limits.maxContextTokens);
}

/**
 * The most {@linkcode estimateInputTokens} can return for a body of this size:
 * every string, number, key and bracket counts at most as many tokens as it
 * takes bytes of JSON, so the body's size bounds the structural estimate.
 */
export function inputTokenBound(bodyBytes: number, extraTokens = 0): number {
  return Math.max(MIN_INPUT_ESTIMATE, bodyBytes + extraTokens);
}

/**
 * Checks the request against the effective limits (no limits known → ok).
 * The body is walked only when its size alone does not show that it fits.
 */
export function checkContextLimit(input: ContextCheckInput): ContextCheck {
  const limits = effectiveLimits(input.entries);
  if (limits === undefined) return { ok: true };
  const output = requestedOutputTokens(input.protocol, input.body);
  if (!exceeds(limits, inputTokenBound(input.bodyBytes, input.extraTokens), output)) {
    return { ok: true, limits };
  }
  const estimatedInput = estimateInputTokens(input.body, input.bodyBytes, input.extraTokens);
  if (!exceeds(limits, estimatedInput, output)) return { ok: true, estimatedInput, limits };
  const parts = [`model '${input.modelId}'`];
  if (limits.maxContextTokens !== undefined) parts.push(`max context ${limits.maxContextTokens}`);
  if (limits.maxInputTokens !== undefined) parts.push(`max input ${limits.maxInputTokens}`);
  if (limits.maxOutputTokens !== undefined) parts.push(`max output ${limits.maxOutputTokens}`);
  parts.push(`estimated input ${estimatedInput}`);
  if (output !== undefined) parts.push(`requested output ${output}`);
  return {
    ok: false,
    message: `Context limit exceeded: ${parts.join(", ")}`,
    estimatedInput,
    requestedOutput: output,
    limits,
  };
}
