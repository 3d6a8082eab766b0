/**
 * Chat Completions answers as Responses API objects (issue #15): a whole
 * `chat.completion` as a Response, and the pieces the stream translator
 * shares with it (ids, output items, usage, the Response envelope).
 */
import { asRecord } from "./types.ts";
import { CUSTOM_INPUT_ARG } from "./responses_request.ts";
import type { ResponsesContext } from "./responses_request.ts";

type Obj = Record<string, unknown>;

/** A fresh id with the Responses API's prefix for its kind (`resp_`, `msg_`, `fc_`, `ctc_`). */
export function newItemId(prefix: string): string {
  return prefix + crypto.randomUUID().replaceAll("-", "");
}

/** Chat usage (prompt includes cached, completion includes reasoning) in the Responses shape. */
export function responsesUsage(u: Obj | undefined): Obj {
  const input = Number(u?.prompt_tokens ?? 0) || 0;
  const output = Number(u?.completion_tokens ?? 0) || 0;
  const cached = Number(asRecord(u?.prompt_tokens_details)?.cached_tokens ?? 0) || 0;
  const reasoning = Number(asRecord(u?.completion_tokens_details)?.reasoning_tokens ?? 0) || 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: Number(u?.total_tokens ?? input + output) || input + output,
  };
}

/** The status and `incomplete_details` a chat `finish_reason` means. */
export function statusOfFinish(finish: unknown): { status: string; incomplete: Obj | null } {
  if (finish === "length") {
    return { status: "incomplete", incomplete: { reason: "max_output_tokens" } };
  }
  if (finish === "content_filter") {
    return { status: "incomplete", incomplete: { reason: "content_filter" } };
  }
  return { status: "completed", incomplete: null };
}

/** A Response object around `output`; `status` says where it stands. */
export function responseObject(
  id: string,
  createdAt: number,
  ctx: ResponsesContext,
  fields: {
    status: string;
    output: Obj[];
    usage: Obj | null;
    incomplete?: Obj | null;
    error?: Obj | null;
  },
): Obj {
  return {
    id,
    object: "response",
    created_at: createdAt,
    status: fields.status,
    background: false,
    error: fields.error ?? null,
    incomplete_details: fields.incomplete ?? null,
    model: ctx.model,
    output: fields.output,
    store: false,
    usage: fields.usage,
    ...ctx.echo,
  };
}

/** A message output item holding one `output_text` part. */
export function messageItem(id: string, text: string, status: string): Obj {
  return {
    type: "message",
    id,
    status,
    role: "assistant",
    content: [{ type: "output_text", text, annotations: [], logprobs: [] }],
  };
}

/**
 * The model's reasoning text as a `reasoning` item. It carries no encrypted
 * content: a later turn that sends it back has it dropped with a warning.
 */
export function reasoningItem(id: string, text: string): Obj {
  return { type: "reasoning", id, summary: [], content: [{ type: "reasoning_text", text }] };
}

/** A chat tool call as a `function_call` item, or a `custom_tool_call` for a freeform tool. */
export function callItem(
  ctx: ResponsesContext,
  callId: string,
  name: string,
  args: string,
  status: string,
): Obj {
  if (ctx.customTools.has(name)) {
    return {
      type: "custom_tool_call",
      id: newItemId("ctc_"),
      call_id: callId,
      name,
      input: customInput(args),
      status,
    };
  }
  return {
    type: "function_call",
    id: newItemId("fc_"),
    call_id: callId,
    name,
    arguments: args,
    status,
  };
}

/** The raw input of a freeform tool, out of the one-argument JSON the model wrote. */
export function customInput(args: string): string {
  try {
    const parsed = asRecord(JSON.parse(args));
    const value = parsed?.[CUSTOM_INPUT_ARG];
    if (typeof value === "string") return value;
  } catch {
    // Not JSON: the model wrote the input itself; keep it as it is.
  }
  return args;
}

/** A non-streamed chat completion as a Response object. */
export function chatToResponse(completion: Obj, ctx: ResponsesContext): Obj {
  const choice = asRecord(Array.isArray(completion.choices) ? completion.choices[0] : undefined);
  const message = asRecord(choice?.message) ?? {};
  const output: Obj[] = [];
  const reasoning = message.reasoning_content ?? message.reasoning;
  if (typeof reasoning === "string" && reasoning !== "") {
    output.push(reasoningItem(newItemId("rs_"), reasoning));
  }
  const text = typeof message.content === "string" ? message.content : "";
  if (text !== "") output.push(messageItem(newItemId("msg_"), text, "completed"));
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  calls.forEach((c, i) => {
    const call = asRecord(c) ?? {};
    const fn = asRecord(call.function) ?? {};
    output.push(callItem(
      ctx,
      typeof call.id === "string" ? call.id : `call_${i}`,
      String(fn.name ?? ""),
      typeof fn.arguments === "string" ? fn.arguments : "{}",
      "completed",
    ));
  });
  const { status, incomplete } = statusOfFinish(choice?.finish_reason);
  return responseObject(
    newItemId("resp_"),
    typeof completion.created === "number" ? completion.created : Math.floor(Date.now() / 1000),
    ctx,
    { status, output, usage: responsesUsage(asRecord(completion.usage)), incomplete },
  );
}
