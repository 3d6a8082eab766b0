/**
 * An Anthropic Messages request as an OpenAI Chat Completions request
 * (spec 04 §7.1): `system` becomes the first message, `tool_use` blocks become
 * `tool_calls`, each `tool_result` its own `tool` message right after the
 * assistant turn that asked for it.
 */
import { asRecord, isSet } from "./types.ts";
import type { Loss, TranscoderSettings, TranslatedRequest } from "./types.ts";
import { toOpenAiId } from "./tool_ids.ts";
import { nearestEffort } from "../../routing/capabilities.ts";

/** Top-level Messages fields Chat Completions has no counterpart for. */
const DROPPED: readonly string[] = [
  "top_k",
  "context_management",
  "container",
  "mcp_servers",
  "output_config",
  "service_tier",
];

const HANDLED = new Set([
  "model",
  "messages",
  "system",
  "max_tokens",
  "temperature",
  "top_p",
  "stop_sequences",
  "stream",
  "tools",
  "tool_choice",
  "metadata",
  "thinking",
  ...DROPPED,
]);

type Part = Record<string, unknown>;
type Msg = Record<string, unknown>;

interface Walk {
  losses: Loss[];
  settings: TranscoderSettings;
  /** `cache_control` is reported once, however many blocks carry it. */
  cacheControl: boolean;
}

/** Translates the body; never throws for odd input (bad parts become losses). */
export function toOpenAiRequest(
  body: Record<string, unknown>,
  modelId: string,
  settings: TranscoderSettings,
): TranslatedRequest {
  const w: Walk = { losses: [], settings, cacheControl: false };
  const messages: Msg[] = [];
  const system = systemText(body.system, w);
  if (system !== "") messages.push({ role: "system", content: system });
  const raw = Array.isArray(body.messages) ? body.messages : [];
  raw.forEach((m, i) => addMessage(asRecord(m) ?? {}, i, messages, w));
  const out: Record<string, unknown> = { model: modelId, messages };
  if (typeof body.max_tokens === "number") out.max_tokens = body.max_tokens;
  if (typeof body.temperature === "number") out.temperature = body.temperature;
  if (typeof body.top_p === "number") out.top_p = body.top_p;
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length > 0) {
    out.stop = body.stop_sequences;
  }
  if (body.stream === true) {
    out.stream = true;
    // Usage arrives only when asked for; the client's stats and ours need it.
    out.stream_options = { include_usage: true };
  }
  const user = asRecord(body.metadata)?.user_id;
  if (typeof user === "string" && user !== "") out.user = user;
  addTools(body, out, w);
  addThinking(body, out, w);
  for (const name of DROPPED) {
    if (isSet(body[name])) w.losses.push({ field: name, kind: "unsupported" });
  }
  for (const name of Object.keys(body)) {
    if (!HANDLED.has(name) && isSet(body[name])) {
      w.losses.push({ field: name, kind: "unsupported" });
    }
  }
  if (w.cacheControl) w.losses.push({ field: "cache_control", kind: "unsupported" });
  return {
    body: out,
    losses: w.losses,
    context: { includeUsage: true, model: modelId, reasoning: settings.thinking },
  };
}

function noteCache(block: Record<string, unknown>, w: Walk): void {
  if (isSet(block.cache_control)) w.cacheControl = true;
}

function systemText(system: unknown, w: Walk): string {
  if (typeof system === "string") return system;
  if (!Array.isArray(system)) return "";
  const texts: string[] = [];
  for (const b of system) {
    const block = asRecord(b);
    if (block === undefined) continue;
    noteCache(block, w);
    if (block.type === "text" && typeof block.text === "string") texts.push(block.text);
  }
  return texts.join("\n\n");
}

function addMessage(m: Record<string, unknown>, i: number, out: Msg[], w: Walk): void {
  const where = `messages[${i}]`;
  const blocks: Part[] = typeof m.content === "string"
    ? [{ type: "text", text: m.content }]
    : Array.isArray(m.content)
    ? m.content.map((b) => asRecord(b) ?? {})
    : [];
  if (m.role === "assistant") {
    const texts: string[] = [];
    const calls: Part[] = [];
    blocks.forEach((b, j) => {
      noteCache(b, w);
      if (b.type === "text" && typeof b.text === "string") texts.push(b.text);
      else if (b.type === "tool_use" && typeof b.name === "string") {
        calls.push({
          id: toOpenAiId(typeof b.id === "string" ? b.id : `toolu_${i}_${j}`),
          type: "function",
          function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
        });
      } else if (b.type !== "thinking" && b.type !== "redacted_thinking") {
        // Earlier thinking is the model's own scratch work: leaving it out loses nothing the target reads.
        w.losses.push({ field: `${where}.content[${j}]`, kind: "unsupported" });
      }
    });
    const msg: Msg = { role: "assistant", content: texts.length > 0 ? texts.join("") : null };
    if (calls.length > 0) msg.tool_calls = calls;
    if (texts.length > 0 || calls.length > 0) out.push(msg);
    return;
  }
  if (m.role !== "user") {
    w.losses.push({ field: `${where}.role`, kind: "unsupported" });
    return;
  }
  const parts: Part[] = [];
  blocks.forEach((b, j) => {
    noteCache(b, w);
    if (b.type === "tool_result") {
      out.push({
        role: "tool",
        tool_call_id: toOpenAiId(typeof b.tool_use_id === "string" ? b.tool_use_id : ""),
        content: toolResultText(b, `${where}.content[${j}]`, w),
      });
      return;
    }
    const part = userPart(b, `${where}.content[${j}]`, w);
    if (part !== undefined) parts.push(part);
  });
  if (parts.length === 0) return;
  const onlyText = parts.every((p) => p.type === "text");
  out.push({
    role: "user",
    content: onlyText ? parts.map((p) => p.text as string).join("\n\n") : parts,
  });
}

function userPart(b: Part, where: string, w: Walk): Part | undefined {
  if (b.type === "text" && typeof b.text === "string") return { type: "text", text: b.text };
  if (b.type === "image") {
    const src = asRecord(b.source);
    const { images, vision } = w.settings;
    const kind = src?.type === "base64" || src?.type === "url" ? src.type : undefined;
    if (images === undefined ? !vision : kind !== undefined && !images[kind]) {
      w.losses.push({ field: where, kind: "feature_disabled" });
      return undefined;
    }
    if (src?.type === "base64" && typeof src.data === "string") {
      return {
        type: "image_url",
        image_url: { url: `data:${src.media_type ?? "image/png"};base64,${src.data}` },
      };
    }
    if (src?.type === "url" && typeof src.url === "string") {
      return { type: "image_url", image_url: { url: src.url } };
    }
  }
  w.losses.push({ field: where, kind: "unsupported" });
  return undefined;
}

/** A tool result's content as the text a `tool` message carries; an error result says so. */
function toolResultText(b: Part, where: string, w: Walk): string {
  let text = "";
  if (typeof b.content === "string") text = b.content;
  else if (Array.isArray(b.content)) {
    const texts: string[] = [];
    b.content.forEach((c, k) => {
      const block = asRecord(c) ?? {};
      noteCache(block, w);
      if (block.type === "text" && typeof block.text === "string") texts.push(block.text);
      else w.losses.push({ field: `${where}.content[${k}]`, kind: "unsupported" });
    });
    text = texts.join("\n\n");
  }
  return b.is_error === true ? `Error: ${text}` : text;
}

function addTools(body: Record<string, unknown>, out: Record<string, unknown>, w: Walk): void {
  const tools: Part[] = [];
  const list = Array.isArray(body.tools) ? body.tools : [];
  list.forEach((t, i) => {
    const tool = asRecord(t) ?? {};
    noteCache(tool, w);
    // Server tools (web search, code execution…) run at Anthropic; nobody else can run them.
    const custom = tool.type === undefined || tool.type === null || tool.type === "custom";
    if (!custom || typeof tool.name !== "string") {
      w.losses.push({ field: `tools[${i}]`, kind: "unsupported" });
      return;
    }
    const fn: Part = {
      name: tool.name,
      parameters: asRecord(tool.input_schema) ?? { type: "object", properties: {} },
    };
    if (typeof tool.description === "string") fn.description = tool.description;
    tools.push({ type: "function", function: fn });
  });
  if (tools.length > 0) out.tools = tools;
  const choice = asRecord(body.tool_choice);
  // Chat Completions refuses a tool_choice without tools.
  if (choice === undefined || tools.length === 0) return;
  if (choice.type === "none") out.tool_choice = "none";
  else if (choice.type === "auto") out.tool_choice = "auto";
  else if (choice.type === "any") out.tool_choice = "required";
  else if (choice.type === "tool" && typeof choice.name === "string") {
    out.tool_choice = { type: "function", function: { name: choice.name } };
  }
  if (choice.disable_parallel_tool_use === true && tools.length > 0) {
    out.parallel_tool_calls = false;
  }
}

/** A thinking budget as the nearest reasoning effort (the defaults' thresholds). */
function addThinking(body: Record<string, unknown>, out: Record<string, unknown>, w: Walk): void {
  const thinking = asRecord(body.thinking);
  if (thinking === undefined || thinking.type === "disabled") return;
  if (!w.settings.thinking) {
    w.losses.push({ field: "thinking", kind: "feature_disabled" });
    return;
  }
  const budget = typeof thinking.budget_tokens === "number" ? thinking.budget_tokens : undefined;
  const b = w.settings.budgets;
  const effort = budget === undefined
    ? "medium"
    : budget <= b.low
    ? "low"
    : budget <= b.medium
    ? "medium"
    : "high";
  out.reasoning_effort = nearestEffort(effort, w.settings.efforts);
}
