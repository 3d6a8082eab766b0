/**
 * Dialect-neutral part of a mock completion: what to answer (text or tool call)
 * and how many tokens to report, including the simulated prompt cache.
 */
import { hash64 } from "../core/hash64.ts";
import type { MockDialect, MockOptions, RecordedRequest } from "./_mock_types.ts";

type Json = Record<string, unknown>;

/** A tool call the mock will emit. */
export interface ToolPlan {
  id: string;
  name: string;
  input: Record<string, unknown>;
  /** `JSON.stringify(input)`, streamed in pieces. */
  argumentsJson: string;
}

/** Everything a dialect renderer needs besides ids. */
export interface ReplyPlan {
  text: string;
  tool: ToolPlan | undefined;
  stop: "end" | "max_tokens" | "tool";
  /** Whole prompt, cached part included. */
  promptTokens: number;
  /** Longest previously seen prefix for this key (0 without `cache: "prefix"`). */
  cachedTokens: number;
  /** Prompt minus its last message: what a cache write would cover. */
  prefixTokens: number;
  /** Reply tokens, reasoning excluded. */
  outputTokens: number;
}

const ECHO_MAX_CHARS = 80;
/**
 * Prefixes remembered per key: plenty for any test, and a bound for `eggpool
 * demo`, which may run for days (a real provider's cache forgets too).
 */
const MAX_PREFIXES_PER_KEY = 4096;
const TOOL_TEXT_MAX_CHARS = 40;
const TOOL_PHRASE = "use the tool";

/** The mock's tokenizer: 4 characters per token, rounded up, at least 1. */
export function estimateTokens(chars: number): number {
  return Math.max(1, Math.ceil(chars / 4));
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function messagesOf(body: Json): unknown[] {
  return Array.isArray(body.messages) ? body.messages : [];
}

function textOfContent(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .filter((part) => isObject(part) && part.type === "text" && typeof part.text === "string")
    .map((part) => (part as Json).text as string)
    .join(" ");
}

/** Text of the last `user` message, blocks joined; `""` when there is none. */
export function lastUserText(body: Json): string {
  const messages = messagesOf(body);
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (isObject(message) && message.role === "user") return textOfContent(message.content);
  }
  return "";
}

function isToolResultTurn(body: Json): boolean {
  const last = messagesOf(body).at(-1);
  if (!isObject(last)) return false;
  if (last.role === "tool") return true;
  return last.role === "user" && Array.isArray(last.content) &&
    last.content.some((block) => isObject(block) && block.type === "tool_result");
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max);
}

interface ToolSpec {
  name: string;
  schema: unknown;
}

function toolSpecs(body: Json, dialect: MockDialect): ToolSpec[] {
  if (!Array.isArray(body.tools)) return [];
  const specs: ToolSpec[] = [];
  for (const tool of body.tools) {
    if (!isObject(tool)) continue;
    if (dialect === "openai" && isObject(tool.function) && typeof tool.function.name === "string") {
      specs.push({ name: tool.function.name, schema: tool.function.parameters });
    } else if (dialect === "anthropic" && typeof tool.name === "string") {
      specs.push({ name: tool.name, schema: tool.input_schema });
    }
  }
  return specs;
}

/** `"none"`, `"forced"` (with an optional tool name) or `"auto"`, per dialect. */
function toolChoiceOf(body: Json): { mode: "none" | "forced" | "auto"; name?: string } {
  const choice = body.tool_choice;
  if (choice === "none") return { mode: "none" };
  if (choice === "required") return { mode: "forced" };
  if (!isObject(choice)) return { mode: "auto" };
  if (choice.type === "none") return { mode: "none" };
  if (choice.type === "any") return { mode: "forced" };
  if (choice.type === "tool" && typeof choice.name === "string") {
    return { mode: "forced", name: choice.name };
  }
  if (isObject(choice.function) && typeof choice.function.name === "string") {
    return { mode: "forced", name: choice.function.name };
  }
  return { mode: "auto" };
}

/** Plausible arguments for a JSON schema: every property gets a typed sample value. */
function sampleArguments(schema: unknown, userText: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isObject(schema) || !isObject(schema.properties)) return out;
  for (const [name, prop] of Object.entries(schema.properties)) {
    const spec = isObject(prop) ? prop : {};
    const type = Array.isArray(spec.type) ? spec.type[0] : spec.type;
    if (Array.isArray(spec.enum) && spec.enum.length > 0) out[name] = spec.enum[0];
    else if (type === "number" || type === "integer") out[name] = 42;
    else if (type === "boolean") out[name] = true;
    else if (type === "array") out[name] = [];
    else if (type === "object") out[name] = {};
    else out[name] = truncate(userText, TOOL_TEXT_MAX_CHARS) || "mock";
  }
  return out;
}

function planTool(
  body: Json,
  dialect: MockDialect,
  options: MockOptions,
  toolId: () => string,
): ToolPlan | undefined {
  const specs = toolSpecs(body, dialect);
  const choice = toolChoiceOf(body);
  if (specs.length === 0 || choice.mode === "none") return undefined;
  const userText = lastUserText(body);
  const wanted = choice.mode === "forced" ||
    (!isToolResultTurn(body) &&
      (options.toolCall !== undefined && options.toolCall !== false ||
        userText.toLowerCase().includes(TOOL_PHRASE)));
  if (!wanted) return undefined;
  const forced = typeof options.toolCall === "object" ? options.toolCall : {};
  const name = forced.name ?? choice.name ?? specs[0].name;
  const spec = specs.find((candidate) => candidate.name === name);
  const input = forced.arguments ?? sampleArguments(spec?.schema, userText);
  return { id: toolId(), name, input, argumentsJson: JSON.stringify(input) };
}

function maxTokensOf(body: Json): number | undefined {
  const value = body.max_completion_tokens ?? body.max_tokens;
  return typeof value === "number" && value > 0 ? value : undefined;
}

function replyText(request: RecordedRequest, body: Json, options: MockOptions): string {
  if (typeof options.reply === "function") return options.reply(request);
  if (typeof options.reply === "string") return options.reply;
  return `echo: ${truncate(lastUserText(body), ECHO_MAX_CHARS)}`;
}

/** Decides the reply and its token counts; `cache` is consulted only when enabled. */
export function planReply(
  request: RecordedRequest,
  dialect: MockDialect,
  context: { options: MockOptions; cache: PromptCache; toolId: () => string },
): ReplyPlan {
  const body = request.body as Json;
  const { options } = context;
  const tool = planTool(body, dialect, options, context.toolId);
  let text = tool
    ? (dialect === "anthropic" ? `I'll use the ${tool.name} tool.` : "")
    : replyText(request, body, options);
  let stop: ReplyPlan["stop"] = tool ? "tool" : "end";
  const maxTokens = maxTokensOf(body);
  if (!tool && maxTokens !== undefined && estimateTokens(text.length) > maxTokens) {
    text = text.slice(0, maxTokens * 4);
    stop = "max_tokens";
  }
  const promptTokens = estimateTokens(request.bodyChars);
  const prefix = options.cache === "prefix"
    ? context.cache.observe(request.key ?? "", body, dialect)
    : { cachedTokens: 0, prefixTokens: 0 };
  const toolChars = tool ? tool.name.length + tool.argumentsJson.length : 0;
  return {
    text,
    tool,
    stop,
    promptTokens,
    cachedTokens: Math.min(prefix.cachedTokens, promptTokens),
    prefixTokens: Math.min(prefix.prefixTokens, promptTokens),
    outputTokens: estimateTokens(text.length + toolChars),
  };
}

/** Small, fast, non-cryptographic string hash: EggPool's own, the mock has no need of another. */
const hashText = hash64;

/**
 * Simulated provider prompt cache, one per account key. A request's "prefixes"
 * are its system/tools part followed by the first k messages, for every k. A
 * later request is credited with the longest prefix (shorter than itself) that
 * an earlier request with the same key contained.
 */
export class PromptCache {
  readonly #byKey = new Map<string, Map<string, number>>();

  /** Returns cached and prefix token counts, then remembers this request's prefixes. */
  observe(key: string, body: Json, dialect: MockDialect): {
    cachedTokens: number;
    prefixTokens: number;
  } {
    const seen = this.#byKey.get(key) ?? new Map<string, number>();
    this.#byKey.set(key, seen);
    const head = dialect === "anthropic" ? [body.system ?? null, body.tools ?? null] : [
      body.tools ?? null,
    ];
    const hasHead = head.some((part) => part !== null);
    let chars = hasHead ? JSON.stringify(head).length : 0;
    let hash = hashText(hasHead ? JSON.stringify(head) : "");
    const prefixes: Array<{ hash: string; tokens: number }> = [];
    if (hasHead) prefixes.push({ hash, tokens: estimateTokens(chars) });
    for (const message of messagesOf(body)) {
      const json = JSON.stringify(message);
      chars += json.length;
      hash = hashText(`${hash}\u0000${json}`);
      prefixes.push({ hash, tokens: estimateTokens(chars) });
    }
    // The last entry is the whole prompt; a cache can only cover what precedes it.
    const candidates = prefixes.slice(0, -1);
    let cachedTokens = 0;
    for (let i = candidates.length - 1; i >= 0; i--) {
      const hit = seen.get(candidates[i].hash);
      if (hit !== undefined) {
        cachedTokens = hit;
        break;
      }
    }
    // Re-inserted so the map's order is least recently seen first, the end a cap trims from.
    for (const prefix of prefixes) {
      seen.delete(prefix.hash);
      seen.set(prefix.hash, prefix.tokens);
    }
    for (const oldest of seen.keys()) {
      if (seen.size <= MAX_PREFIXES_PER_KEY) break;
      seen.delete(oldest);
    }
    const prefixTokens = candidates.at(-1)?.tokens ?? 0;
    return { cachedTokens, prefixTokens };
  }

  clear(): void {
    this.#byKey.clear();
  }
}

/** Splits `text` into pieces of `size` characters (code points are never cut). */
export function splitText(text: string, size: number): string[] {
  const chars = Array.from(text);
  const pieces: string[] = [];
  for (let i = 0; i < chars.length; i += size) pieces.push(chars.slice(i, i + size).join(""));
  return pieces;
}

/** Splits tool-call JSON into at least three uneven pieces so clients must reassemble it. */
export function splitArguments(json: string): string[] {
  if (json.length < 3) return [json];
  const first = Math.max(1, Math.floor(json.length / 5));
  const second = Math.max(first + 1, Math.floor(json.length / 2));
  return [json.slice(0, first), json.slice(first, second), ...splitText(json.slice(second), 16)];
}
