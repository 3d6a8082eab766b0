/**
 * Reads EggPool's answer to a demo agent's turn, streamed or not, in either
 * protocol, down to what the agent keeps in its history: the text and at
 * most one tool call. An answer that is not a complete reply reads as undefined.
 */
import type { Protocol } from "../core/protocol.ts";

/** A tool call the reply asked for. */
export interface AgentToolCall {
  id: string;
  name: string;
  argumentsJson: string;
}

/** What an agent keeps of a reply. */
export interface AgentReply {
  text: string;
  toolCall?: AgentToolCall;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The reply in `response` (always consumed); undefined when it is an error or incomplete. */
export async function readReply(
  response: Response,
  protocol: Protocol,
  stream: boolean,
): Promise<AgentReply | undefined> {
  const text = await response.text();
  if (!response.ok) return undefined;
  try {
    if (!stream) {
      const body = JSON.parse(text);
      return protocol === "openai" ? openaiWhole(body) : anthropicWhole(body);
    }
    const events = [...dataLines(text)];
    return protocol === "openai" ? openaiStream(events) : anthropicStream(events);
  } catch {
    return undefined;
  }
}

/** The JSON payload of every SSE `data:` line but `[DONE]`. */
function* dataLines(text: string): Generator<Json> {
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith("data:")) continue;
    const data = line.slice(5).trim();
    if (data === "" || data === "[DONE]") continue;
    const parsed = JSON.parse(data);
    if (isObject(parsed)) yield parsed;
  }
}

function openaiWhole(body: unknown): AgentReply | undefined {
  const message = isObject(body) && Array.isArray(body.choices) && isObject(body.choices[0])
    ? body.choices[0].message
    : undefined;
  if (!isObject(message)) return undefined;
  const call = Array.isArray(message.tool_calls) ? message.tool_calls[0] : undefined;
  const fn = isObject(call) && isObject(call.function) ? call.function : undefined;
  return {
    text: typeof message.content === "string" ? message.content : "",
    toolCall: fn && isObject(call)
      ? { id: String(call.id), name: String(fn.name), argumentsJson: String(fn.arguments) }
      : undefined,
  };
}

function openaiStream(events: Json[]): AgentReply | undefined {
  let text = "";
  let finished = false;
  let call: AgentToolCall | undefined;
  for (const event of events) {
    if (isObject(event.error)) return undefined;
    const choice = Array.isArray(event.choices) ? event.choices[0] : undefined;
    if (!isObject(choice)) continue;
    if (choice.finish_reason) finished = true;
    const delta = isObject(choice.delta) ? choice.delta : {};
    if (typeof delta.content === "string") text += delta.content;
    const piece = Array.isArray(delta.tool_calls) ? delta.tool_calls[0] : undefined;
    if (!isObject(piece)) continue;
    const fn = isObject(piece.function) ? piece.function : {};
    call ??= { id: "", name: "", argumentsJson: "" };
    if (typeof piece.id === "string") call.id = piece.id;
    if (typeof fn.name === "string") call.name = fn.name;
    if (typeof fn.arguments === "string") call.argumentsJson += fn.arguments;
  }
  return finished ? { text, toolCall: call } : undefined;
}

function anthropicWhole(body: unknown): AgentReply | undefined {
  if (!isObject(body) || !Array.isArray(body.content)) return undefined;
  let text = "";
  let call: AgentToolCall | undefined;
  for (const block of body.content) {
    if (!isObject(block)) continue;
    if (block.type === "text" && typeof block.text === "string") text += block.text;
    if (block.type === "tool_use" && call === undefined) {
      call = {
        id: String(block.id),
        name: String(block.name),
        argumentsJson: JSON.stringify(block.input ?? {}),
      };
    }
  }
  return { text, toolCall: call };
}

function anthropicStream(events: Json[]): AgentReply | undefined {
  let text = "";
  let stopped = false;
  let call: AgentToolCall | undefined;
  for (const event of events) {
    if (event.type === "error") return undefined;
    if (event.type === "message_stop") stopped = true;
    const block = isObject(event.content_block) ? event.content_block : undefined;
    if (event.type === "content_block_start" && block?.type === "tool_use") {
      call ??= { id: String(block.id), name: String(block.name), argumentsJson: "" };
    }
    const delta = isObject(event.delta) ? event.delta : undefined;
    if (delta?.type === "text_delta" && typeof delta.text === "string") text += delta.text;
    if (delta?.type === "input_json_delta" && typeof delta.partial_json === "string" && call) {
      call.argumentsJson += delta.partial_json;
    }
  }
  return stopped ? { text, toolCall: call } : undefined;
}
