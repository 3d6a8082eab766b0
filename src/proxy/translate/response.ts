/**
 * Non-streamed answers and error bodies, translated whole: the upstream's JSON
 * in, the client protocol's JSON out. Usage for the stats is read from the
 * upstream's own body before this runs, so nothing here affects cost.
 */
import type { Protocol } from "../../core/protocol.ts";
import { asRecord } from "./types.ts";
import type { TranslationContext } from "./types.ts";
import {
  anthropicErrorType,
  anthropicUsageOf,
  FINISH_OF_STOP,
  OPENAI_ERROR_OF,
  openAiUsageOf,
  STOP_OF_FINISH,
} from "./mapping.ts";
import { newToolId, toAnthropicId } from "./tool_ids.ts";

type Obj = Record<string, unknown>;

/** Prefixes an id the way the client's SDK expects it (04 §7.2). */
export function prefixedId(id: unknown, prefix: string): string {
  const s = typeof id === "string" && id !== "" ? id : crypto.randomUUID().replaceAll("-", "");
  return s.startsWith(prefix) ? s : prefix + s;
}

/** An Anthropic message as an OpenAI chat completion. */
export function anthropicToOpenAiResponse(msg: Obj, ctx: TranslationContext): Obj {
  const texts: string[] = [];
  const thinking: string[] = [];
  const calls: Obj[] = [];
  let finish = FINISH_OF_STOP[String(msg.stop_reason)] ?? "stop";
  const blocks = Array.isArray(msg.content) ? msg.content : [];
  for (const b of blocks) {
    const block = asRecord(b) ?? {};
    if (block.type === "text" && typeof block.text === "string") texts.push(block.text);
    else if (
      ctx.reasoning && block.type === "thinking" && typeof block.thinking === "string"
    ) {
      thinking.push(block.thinking);
    } else if (block.type === "tool_use") {
      if (ctx.forcedTool !== undefined && block.name === ctx.forcedTool) {
        // The forced tool stood in for response_format: its input is the answer.
        texts.push(JSON.stringify(block.input ?? {}));
        finish = "stop";
        continue;
      }
      calls.push({
        id: typeof block.id === "string" ? block.id : newToolId(calls.length),
        type: "function",
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  const message: Obj = { role: "assistant", content: texts.length > 0 ? texts.join("") : null };
  if (thinking.length > 0) message.reasoning_content = thinking.join("");
  if (calls.length > 0) message.tool_calls = calls;
  return {
    id: prefixedId(msg.id, "chatcmpl-"),
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: typeof msg.model === "string" ? msg.model : ctx.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
    usage: openAiUsageOf(asRecord(msg.usage)),
  };
}

/** An OpenAI chat completion as an Anthropic message. */
export function openAiToAnthropicResponse(completion: Obj, ctx: TranslationContext): Obj {
  const choice = asRecord(Array.isArray(completion.choices) ? completion.choices[0] : undefined);
  const message = asRecord(choice?.message) ?? {};
  const content: Obj[] = [];
  const reasoning = message.reasoning_content ?? message.reasoning;
  if (ctx.reasoning && typeof reasoning === "string" && reasoning !== "") {
    content.push({ type: "thinking", thinking: reasoning, signature: "" });
  }
  if (typeof message.content === "string" && message.content !== "") {
    content.push({ type: "text", text: message.content });
  }
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  calls.forEach((c, i) => {
    const call = asRecord(c) ?? {};
    const fn = asRecord(call.function) ?? {};
    content.push({
      type: "tool_use",
      id: toAnthropicId(typeof call.id === "string" ? call.id : newToolId(i)),
      name: fn.name,
      input: argumentsObject(fn.arguments),
    });
  });
  const finish = String(choice?.finish_reason);
  return {
    id: prefixedId(completion.id, "msg_"),
    type: "message",
    role: "assistant",
    model: typeof completion.model === "string" ? completion.model : ctx.model,
    content,
    stop_reason: finish === "length"
      ? "max_tokens"
      : calls.length > 0
      ? "tool_use"
      : STOP_OF_FINISH[finish] ?? "end_turn",
    stop_sequence: null,
    usage: anthropicUsageOf(asRecord(completion.usage)),
  };
}

/** OpenAI tool arguments (a JSON string) as the object Anthropic's `input` is. */
export function argumentsObject(args: unknown): Obj {
  if (typeof args !== "string" || args.trim() === "") return {};
  try {
    const parsed = JSON.parse(args);
    return asRecord(parsed) ?? { value: parsed };
  } catch {
    return { arguments: args };
  }
}

/**
 * An upstream error body in the client's envelope (04 §7.3). A body that is
 * not the upstream protocol's error shape keeps its text as the message.
 */
export function translateErrorBody(
  from: Protocol,
  to: Protocol,
  status: number,
  body: unknown,
  text: string,
): Obj {
  const err = asRecord(asRecord(body)?.error);
  const message = typeof err?.message === "string"
    ? err.message
    : text.trim().slice(0, 500) || `Upstream answered HTTP ${status}`;
  if (to === "anthropic") {
    const type = from === "openai" && err !== undefined
      ? anthropicErrorType(err, status)
      : anthropicErrorType({}, status);
    return { type: "error", error: { type, message } };
  }
  const upstreamType = typeof err?.type === "string" ? err.type : undefined;
  const type = upstreamType !== undefined && OPENAI_ERROR_OF[upstreamType] !== undefined
    ? OPENAI_ERROR_OF[upstreamType]
    : OPENAI_ERROR_OF[anthropicErrorType({}, status)];
  return { error: { message, type, param: null, code: type } };
}
