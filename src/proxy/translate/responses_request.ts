/**
 * `POST /v1/responses` requests as Chat Completions requests (issue #15).
 * EggPool keeps no response state, so a request that needs some is refused
 * with a 400 naming the field; everything else becomes one chat body, and
 * what a chat upstream cannot carry (hosted tools, reasoning items) is
 * dropped and listed as a loss, like the other translators do.
 */
import { ProxyError } from "../../core/errors.ts";
import { invalidRequest } from "../envelope.ts";
import { lossMessage } from "./transcode.ts";
import { asRecord, describeLosses, isSet } from "./types.ts";
import type { Loss, TranscoderSettings } from "./types.ts";

type Obj = Record<string, unknown>;

/** What the reply side needs to know about the request it answers. */
export interface ResponsesContext {
  /** Model id as the client sent it, echoed in the Response object. */
  model: string;
  /** Names of `custom` (freeform) tools: their calls go back as `custom_tool_call` items. */
  customTools: ReadonlySet<string>;
  /** Request fields the Response object echoes. */
  echo: Obj;
}

/** A Responses request as a Chat Completions body. */
export interface ResponsesTranslation {
  body: Obj;
  losses: Loss[];
  /** The warning header's value, when something was lost. */
  warnings?: string;
  context: ResponsesContext;
}

/** The argument a custom tool's one string input travels in. */
export const CUSTOM_INPUT_ARG = "input";

/** Fields that need state kept between requests, which EggPool does not keep. */
function refuseStateful(body: Obj): void {
  const need = (field: string, why: string) => {
    throw invalidRequest(
      `Unsupported ${field}: EggPool's /v1/responses is stateless (store: false) and ${why}; ` +
        "send the full conversation in `input` instead",
      field,
    );
  };
  if (isSet(body.previous_response_id)) need("previous_response_id", "keeps no past responses");
  if (isSet(body.conversation)) need("conversation", "keeps no conversations");
  if (body.background === true) need("background", "cannot run a response in the background");
  if (body.store === true) need("store", "stores nothing");
  if (isSet(body.prompt)) need("prompt", "keeps no stored prompts");
}

function textOfParts(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content.map((p) => {
    const part = asRecord(p);
    return typeof part?.text === "string" ? part.text : "";
  }).join("");
}

/** A function tool's definition for Chat Completions; undefined for tools it cannot run. */
function chatTool(tool: Obj): Obj | undefined {
  if (tool.type === "function" && typeof tool.name === "string") {
    const fn: Obj = { name: tool.name };
    if (typeof tool.description === "string") fn.description = tool.description;
    fn.parameters = asRecord(tool.parameters) ?? { type: "object", properties: {} };
    if (typeof tool.strict === "boolean") fn.strict = tool.strict;
    return { type: "function", function: fn };
  }
  if (tool.type === "custom" && typeof tool.name === "string") {
    // A freeform tool (Codex's apply_patch): one string argument carries its raw input.
    const format = asRecord(tool.format);
    const grammar = format?.type === "grammar" && typeof format.definition === "string"
      ? ` The input must follow this ${String(format.syntax ?? "")} grammar:\n${format.definition}`
      : "";
    const description = `${typeof tool.description === "string" ? tool.description : ""}${grammar}`;
    return {
      type: "function",
      function: {
        name: tool.name,
        description: description.trim() ||
          `Freeform tool: put its whole input in "${CUSTOM_INPUT_ARG}".`,
        parameters: {
          type: "object",
          properties: { [CUSTOM_INPUT_ARG]: { type: "string", description: "The raw input" } },
          required: [CUSTOM_INPUT_ARG],
        },
      },
    };
  }
  return undefined;
}

/** Builds chat messages from `input`, merging consecutive assistant turns the way chat expects. */
class Messages {
  readonly list: Obj[] = [];
  constructor(readonly losses: Loss[]) {}

  push(message: Obj): void {
    this.list.push(message);
  }

  /** The assistant message at the end, created when the last message is not one. */
  #assistant(): Obj {
    const last = this.list.at(-1);
    if (last?.role === "assistant") return last;
    const m: Obj = { role: "assistant", content: null };
    this.list.push(m);
    return m;
  }

  assistantText(text: string): void {
    const m = this.#assistant();
    if (Array.isArray(m.tool_calls)) {
      // Text after a call starts a new turn: chat orders text before calls.
      this.list.push({ role: "assistant", content: text });
      return;
    }
    m.content = typeof m.content === "string" ? m.content + text : text;
  }

  toolCall(id: string, name: string, args: string): void {
    const m = this.#assistant();
    const calls = Array.isArray(m.tool_calls) ? m.tool_calls : (m.tool_calls = []);
    (calls as Obj[]).push({ id, type: "function", function: { name, arguments: args } });
  }
}

function contentParts(content: unknown, field: string, losses: Loss[]): string | Obj[] {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  const parts: Obj[] = [];
  content.forEach((p, j) => {
    const part = asRecord(p) ?? {};
    if (
      (part.type === "input_text" || part.type === "output_text" || part.type === "text") &&
      typeof part.text === "string"
    ) {
      parts.push({ type: "text", text: part.text });
    } else if (part.type === "input_image" && typeof part.image_url === "string") {
      const image: Obj = { url: part.image_url };
      if (typeof part.detail === "string") image.detail = part.detail;
      parts.push({ type: "image_url", image_url: image });
    } else if (part.type === "refusal" && typeof part.refusal === "string") {
      parts.push({ type: "text", text: part.refusal });
    } else {
      losses.push({ field: `${field}.content[${j}]`, kind: "unsupported" });
    }
  });
  // A text-only message stays a plain string: some chat upstreams take nothing else.
  if (parts.every((p) => p.type === "text")) return parts.map((p) => p.text).join("");
  return parts;
}

function addItem(item: Obj, field: string, out: Messages): void {
  const type = item.type ?? "message";
  switch (type) {
    case "message": {
      const role = item.role;
      if (role === "assistant") {
        out.assistantText(textOfParts(item.content));
        return;
      }
      if (role !== "user" && role !== "system" && role !== "developer") {
        throw invalidRequest(
          `Invalid ${field}.role: expected user, assistant, system or developer`,
          "input",
        );
      }
      // Most chat upstreams know no `developer` role; it means what `system` does.
      const chatRole = role === "developer" ? "system" : role;
      const content = contentParts(item.content, field, out.losses);
      out.push({ role: chatRole, content: chatRole === "system" ? textOf(content) : content });
      return;
    }
    case "function_call":
    case "custom_tool_call": {
      if (typeof item.call_id !== "string" || typeof item.name !== "string") {
        throw invalidRequest(`Invalid ${field}: a ${type} needs call_id and name`, "input");
      }
      const args = type === "function_call"
        ? typeof item.arguments === "string" ? item.arguments : "{}"
        : JSON.stringify({ [CUSTOM_INPUT_ARG]: typeof item.input === "string" ? item.input : "" });
      out.toolCall(item.call_id, item.name, args);
      return;
    }
    case "function_call_output":
    case "custom_tool_call_output": {
      if (typeof item.call_id !== "string") {
        throw invalidRequest(`Invalid ${field}: a ${type} needs call_id`, "input");
      }
      const output = typeof item.output === "string" ? item.output : textOfParts(item.output);
      out.push({ role: "tool", tool_call_id: item.call_id, content: output });
      return;
    }
    case "item_reference":
      throw invalidRequest(
        `Unsupported ${field}: an item_reference points at a stored item, and EggPool's ` +
          "/v1/responses is stateless; send the item itself",
        "input",
      );
    default:
      // Reasoning items (their encrypted content is bound to the account that made it),
      // hosted tool calls and anything newer: a chat upstream has no place for them.
      out.losses.push({ field, kind: "unsupported" });
  }
}

function textOf(content: string | Obj[]): string {
  return typeof content === "string" ? content : textOfParts(content);
}

/** Request fields with no Chat Completions counterpart; dropped silently (they change nothing the client reads). */
const IGNORED = new Set([
  "store",
  "include",
  "stream_options",
  "metadata",
  "prompt_cache_key",
  "safety_identifier",
  "service_tier",
  "truncation",
  "client_metadata",
  "user",
]);

const CARRIED = new Set([
  "model",
  "input",
  "instructions",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "max_output_tokens",
  "temperature",
  "top_p",
  "stream",
  "reasoning",
  "text",
  "previous_response_id",
  "conversation",
  "background",
  "prompt",
]);

/**
 * Translates a `/v1/responses` body. Throws the 400 for stateful requests,
 * malformed input and, under `loss_policy = "reject"`, a lossy request.
 */
export function responsesToChat(
  body: Obj,
  settings: Pick<TranscoderSettings, "lossPolicy"> | undefined,
): ResponsesTranslation {
  refuseStateful(body);
  const losses: Loss[] = [];
  const out = new Messages(losses);
  if (typeof body.instructions === "string" && body.instructions !== "") {
    out.push({ role: "system", content: body.instructions });
  }
  const input = body.input;
  if (typeof input === "string") out.push({ role: "user", content: input });
  else if (Array.isArray(input)) {
    input.forEach((it, i) => {
      const item = asRecord(it);
      if (item === undefined) {
        throw invalidRequest(`Invalid input[${i}]: each input item must be an object`, "input");
      }
      addItem(item, `input[${i}]`, out);
    });
  } else {
    throw invalidRequest(
      'Invalid input field: "input" must be a string or an array of input items',
      "input",
    );
  }

  const chat: Obj = { model: body.model, messages: out.list };
  const customTools = new Set<string>();
  if (isSet(body.tools)) {
    if (!Array.isArray(body.tools)) {
      throw invalidRequest('Invalid tools field: "tools" must be an array', "tools");
    }
    const tools: Obj[] = [];
    body.tools.forEach((t, i) => {
      const tool = asRecord(t) ?? {};
      const converted = chatTool(tool);
      if (converted === undefined) {
        // Hosted tools (web_search, file_search, ...) run on OpenAI's side, not a chat upstream's.
        losses.push({ field: `tools[${i}].type=${String(tool.type)}`, kind: "unsupported" });
        return;
      }
      if (tool.type === "custom") customTools.add(String(tool.name));
      tools.push(converted);
    });
    if (tools.length > 0) chat.tools = tools;
  }
  const choice = body.tool_choice;
  if (typeof choice === "string") {
    if (chat.tools !== undefined) chat.tool_choice = choice;
  } else if (asRecord(choice) !== undefined) {
    const c = asRecord(choice)!;
    if ((c.type === "function" || c.type === "custom") && typeof c.name === "string") {
      chat.tool_choice = { type: "function", function: { name: c.name } };
    } else losses.push({ field: "tool_choice", kind: "unsupported" });
  }
  if (typeof body.parallel_tool_calls === "boolean" && chat.tools !== undefined) {
    chat.parallel_tool_calls = body.parallel_tool_calls;
  }
  if (isSet(body.max_output_tokens)) chat.max_tokens = body.max_output_tokens;
  if (isSet(body.temperature)) chat.temperature = body.temperature;
  if (isSet(body.top_p)) chat.top_p = body.top_p;
  const effort = asRecord(body.reasoning)?.effort;
  if (typeof effort === "string") chat.reasoning_effort = effort;
  const text = asRecord(body.text);
  const format = asRecord(text?.format);
  if (format?.type === "json_schema") {
    const schema: Obj = { name: format.name ?? "response", schema: format.schema };
    if (typeof format.strict === "boolean") schema.strict = format.strict;
    if (typeof format.description === "string") schema.description = format.description;
    chat.response_format = { type: "json_schema", json_schema: schema };
  } else if (format?.type === "json_object") chat.response_format = { type: "json_object" };
  if (body.stream === true) {
    chat.stream = true;
    // The usage chunk is what the Response's usage is built from.
    chat.stream_options = { include_usage: true };
  }
  for (const [key, value] of Object.entries(body)) {
    if (!isSet(value) || CARRIED.has(key) || IGNORED.has(key)) continue;
    losses.push({ field: key, kind: "unsupported" });
  }

  if (settings?.lossPolicy === "reject" && losses.length > 0) {
    throw new ProxyError("invalid_request", lossMessage(losses), {
      status: 400,
      param: losses[0].field,
    });
  }
  const echo: Obj = {
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    temperature: body.temperature ?? null,
    top_p: body.top_p ?? null,
    tool_choice: body.tool_choice ?? "auto",
    tools: Array.isArray(body.tools) ? body.tools : [],
    text: text ?? { format: { type: "text" } },
    reasoning: body.reasoning ?? null,
    metadata: body.metadata ?? {},
  };
  return {
    body: chat,
    losses,
    warnings: losses.length > 0 ? describeLosses(losses, 20) : undefined,
    context: { model: String(body.model), customTools, echo },
  };
}
