/**
 * An OpenAI Chat Completions request as an Anthropic Messages request
 * (spec 04 §7.1): system and developer messages become `system`, tool calls
 * and tool messages become `tool_use` / `tool_result` blocks, `response_format`
 * with a JSON schema becomes a forced tool whose input is the answer.
 */
import { asRecord, isSet } from "./types.ts";
import type { Loss, TranscoderSettings, TranslatedRequest } from "./types.ts";
import { toAnthropicId } from "./tool_ids.ts";

/** Anthropic requires `max_tokens`; the spec's default when the client sent none. */
export const DEFAULT_MAX_TOKENS = 4096;

/** Name of the tool that carries a `json_schema` answer when the schema has no name. */
const JSON_TOOL = "json_response";

/** Fields with no Messages counterpart; dropped (or rejected) when they carry a value. */
const DROPPED: readonly string[] = [
  "top_p",
  "frequency_penalty",
  "presence_penalty",
  "logprobs",
  "top_logprobs",
  "seed",
  "logit_bias",
  "audio",
  "modalities",
  "prediction",
  "web_search_options",
  "functions",
  "function_call",
];

/** Fields that are ours to handle or harmless to leave out. */
const HANDLED = new Set([
  "model",
  "messages",
  "max_tokens",
  "max_completion_tokens",
  "temperature",
  "stop",
  "stream",
  "stream_options",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "response_format",
  "reasoning_effort",
  "user",
  "n",
  "store",
  "metadata",
  "service_tier",
  ...DROPPED,
]);

type Block = Record<string, unknown>;
type Msg = { role: "user" | "assistant"; content: Block[] };

/** Translates the body; never throws for odd input (bad parts become losses). */
export function toAnthropicRequest(
  body: Record<string, unknown>,
  modelId: string,
  settings: TranscoderSettings,
): TranslatedRequest {
  const losses: Loss[] = [];
  const out: Record<string, unknown> = { model: modelId };
  const system: Block[] = [];
  const messages: Msg[] = [];
  const raw = Array.isArray(body.messages) ? body.messages : [];
  raw.forEach((m, i) => addMessage(asRecord(m) ?? {}, i, { system, messages, losses, settings }));
  if (system.length > 0) out.system = system;
  out.messages = messages;
  const max = body.max_completion_tokens ?? body.max_tokens;
  out.max_tokens = typeof max === "number" && max > 0 ? max : DEFAULT_MAX_TOKENS;
  if (typeof body.temperature === "number") out.temperature = Math.min(body.temperature, 1);
  if (typeof body.stop === "string") out.stop_sequences = [body.stop];
  else if (Array.isArray(body.stop) && body.stop.length > 0) out.stop_sequences = body.stop;
  if (body.stream === true) out.stream = true;
  if (typeof body.user === "string") out.metadata = { user_id: body.user };
  for (const name of DROPPED) {
    const v = body[name];
    if (!isSet(v) || v === false || v === 0) continue;
    losses.push({ field: name, kind: "unsupported" });
  }
  if (typeof body.n === "number" && body.n > 1) losses.push({ field: "n", kind: "unsupported" });
  for (const name of Object.keys(body)) {
    if (!HANDLED.has(name) && isSet(body[name])) losses.push({ field: name, kind: "unsupported" });
  }
  addTools(body, out, losses);
  const forcedTool = addResponseFormat(body, out, losses);
  addThinking(body, out, losses, settings);
  const streamOptions = asRecord(body.stream_options);
  return {
    body: out,
    losses,
    context: {
      includeUsage: streamOptions?.include_usage === true,
      forcedTool,
      model: modelId,
      reasoning: settings.thinking,
    },
  };
}

interface MessageSink {
  system: Block[];
  messages: Msg[];
  losses: Loss[];
  settings: TranscoderSettings;
}

/** Appends blocks to the last message when it has the same role (Messages alternates roles). */
function push(messages: Msg[], role: Msg["role"], blocks: Block[]): void {
  if (blocks.length === 0) return;
  const last = messages.at(-1);
  if (last !== undefined && last.role === role) last.content.push(...blocks);
  else messages.push({ role, content: blocks });
}

function addMessage(m: Record<string, unknown>, i: number, sink: MessageSink): void {
  const where = `messages[${i}]`;
  switch (m.role) {
    case "system":
    case "developer":
      for (const b of contentBlocks(m.content, where, sink)) {
        if (b.type === "text") sink.system.push(b);
      }
      return;
    case "user":
      push(sink.messages, "user", contentBlocks(m.content, where, sink));
      return;
    case "assistant": {
      const blocks = contentBlocks(m.content, where, sink).filter((b) => b.type === "text");
      if (typeof m.refusal === "string" && m.refusal !== "") {
        blocks.push({ type: "text", text: m.refusal });
      }
      const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
      calls.forEach((c, j) => {
        const call = asRecord(c);
        const fn = asRecord(call?.function);
        if (call === undefined || fn === undefined || typeof fn.name !== "string") {
          sink.losses.push({ field: `${where}.tool_calls[${j}]`, kind: "invalid" });
          return;
        }
        blocks.push({
          type: "tool_use",
          id: toAnthropicId(typeof call.id === "string" ? call.id : `call_${i}_${j}`),
          name: fn.name,
          input: parseArguments(fn.arguments),
        });
      });
      push(sink.messages, "assistant", blocks);
      return;
    }
    case "tool": {
      const id = typeof m.tool_call_id === "string" ? m.tool_call_id : "";
      const content = contentBlocks(m.content, where, sink);
      push(sink.messages, "user", [{
        type: "tool_result",
        tool_use_id: toAnthropicId(id),
        content: content.length === 1 && content[0].type === "text" ? content[0].text : content,
      }]);
      return;
    }
    default:
      sink.losses.push({ field: `${where}.role`, kind: "unsupported" });
  }
}

/** Tool arguments are a JSON string in OpenAI and an object in Anthropic. */
function parseArguments(args: unknown): Record<string, unknown> {
  if (typeof args !== "string" || args.trim() === "") return {};
  try {
    return asRecord(JSON.parse(args)) ?? { value: JSON.parse(args) };
  } catch {
    return { arguments: args };
  }
}

/** OpenAI message content (a string or parts) as Anthropic content blocks. */
function contentBlocks(content: unknown, where: string, sink: MessageSink): Block[] {
  if (typeof content === "string") return content === "" ? [] : [{ type: "text", text: content }];
  if (!Array.isArray(content)) return [];
  const out: Block[] = [];
  content.forEach((p, j) => {
    const part = asRecord(p) ?? {};
    if (part.type === "text" && typeof part.text === "string") {
      if (part.text !== "") out.push({ type: "text", text: part.text });
      return;
    }
    if (part.type === "image_url") {
      const image = imageBlock(asRecord(part.image_url)?.url);
      const { images, vision } = sink.settings;
      const source = (image?.source as Block | undefined)?.type as "base64" | "url" | undefined;
      if (images === undefined ? !vision : source !== undefined && !images[source]) {
        sink.losses.push({ field: `${where}.content[${j}]`, kind: "feature_disabled" });
      } else if (image === undefined) {
        sink.losses.push({ field: `${where}.content[${j}]`, kind: "invalid" });
      } else out.push(image);
      return;
    }
    sink.losses.push({ field: `${where}.content[${j}]`, kind: "unsupported" });
  });
  return out;
}

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

/** A data URL becomes a base64 source, anything else an URL source (Messages fetches it). */
function imageBlock(url: unknown): Block | undefined {
  if (typeof url !== "string" || url === "") return undefined;
  const m = DATA_URL.exec(url);
  if (m !== null) {
    return { type: "image", source: { type: "base64", media_type: m[1], data: m[2] } };
  }
  if (!/^https?:\/\//i.test(url)) return undefined;
  return { type: "image", source: { type: "url", url } };
}

function addTools(body: Record<string, unknown>, out: Record<string, unknown>, losses: Loss[]) {
  const tools: Block[] = [];
  const list = Array.isArray(body.tools) ? body.tools : [];
  list.forEach((t, i) => {
    const tool = asRecord(t);
    const fn = asRecord(tool?.function);
    if (tool?.type !== "function" || fn === undefined || typeof fn.name !== "string") {
      losses.push({ field: `tools[${i}]`, kind: "unsupported" });
      return;
    }
    const def: Block = {
      name: fn.name,
      input_schema: asRecord(fn.parameters) ?? { type: "object", properties: {} },
    };
    if (typeof fn.description === "string") def.description = fn.description;
    tools.push(def);
  });
  if (tools.length > 0) out.tools = tools;
  let choice: Block | undefined;
  const tc = body.tool_choice;
  if (tc === "auto") choice = { type: "auto" };
  else if (tc === "required") choice = { type: "any" };
  else if (tc === "none") choice = { type: "none" };
  else {
    const name = asRecord(asRecord(tc)?.function)?.name;
    if (typeof name === "string") choice = { type: "tool", name };
  }
  if (body.parallel_tool_calls === false && tools.length > 0) {
    choice = { ...(choice ?? { type: "auto" }), disable_parallel_tool_use: true };
  }
  // Messages refuses a tool_choice without tools; without tools "none" is what happens anyway.
  if (choice !== undefined && tools.length > 0) {
    out.tool_choice = choice;
  }
}

/**
 * `response_format: json_schema` as a forced tool (Anthropic's documented way
 * to get JSON that follows a schema): its input is the answer, turned back
 * into text on the way out. `json_object` has no schema to force: a system line asks.
 */
function addResponseFormat(
  body: Record<string, unknown>,
  out: Record<string, unknown>,
  losses: Loss[],
): string | undefined {
  const rf = asRecord(body.response_format);
  if (rf === undefined || rf.type === "text") return undefined;
  if (rf.type === "json_object") {
    const system = (out.system as Block[] | undefined) ?? [];
    system.push({ type: "text", text: "Answer with a single JSON object and nothing else." });
    out.system = system;
    return undefined;
  }
  const js = asRecord(rf.json_schema);
  const schema = asRecord(js?.schema);
  if (rf.type !== "json_schema" || schema === undefined) {
    losses.push({ field: "response_format", kind: "unsupported" });
    return undefined;
  }
  const name = typeof js?.name === "string" && /^[a-zA-Z0-9_-]{1,64}$/.test(js.name)
    ? js.name
    : JSON_TOOL;
  const tool: Block = { name, input_schema: schema };
  tool.description = typeof js?.description === "string"
    ? js.description
    : "Give the answer as this tool's input.";
  out.tools = [...((out.tools as Block[] | undefined) ?? []), tool];
  out.tool_choice = { type: "tool", name };
  return name;
}

function addThinking(
  body: Record<string, unknown>,
  out: Record<string, unknown>,
  losses: Loss[],
  settings: TranscoderSettings,
): void {
  const effort = body.reasoning_effort;
  if (!isSet(effort) || effort === "none" || effort === "minimal") return;
  if (!settings.thinking) {
    losses.push({ field: "reasoning_effort", kind: "feature_disabled" });
    return;
  }
  const budget = settings.budgets[effort as "low" | "medium" | "high"] ?? settings.budgets.medium;
  out.thinking = { type: "enabled", budget_tokens: budget };
  // Messages wants max_tokens above the budget, and no sampling temperature with thinking.
  if ((out.max_tokens as number) <= budget) out.max_tokens = budget + DEFAULT_MAX_TOKENS;
  if (out.temperature !== undefined && out.temperature !== 1) {
    delete out.temperature;
    losses.push({ field: "temperature", kind: "unsupported" });
  }
}
