/**
 * A Chat Completions stream as a Responses API event stream (issue #15,
 * spec 04 §4), chunk by chunk as it arrives. The Responses protocol repeats
 * each item whole when it is done, so the text and arguments of the items
 * are kept until then; nothing is held back from the client.
 *
 * The stream EggPool's data plane hands over ends with `[DONE]` only when
 * the upstream finished; a cut or failed upstream ends with an OpenAI error
 * frame instead, or with nothing. Both become `response.failed` here: a
 * stream that did not finish never ends with `response.completed`.
 */
import { SseScanner } from "../sse.ts";
import type { SseFrame } from "../sse.ts";
import { parseObject } from "../usage.ts";
import { asRecord } from "./types.ts";
import type { ResponsesContext } from "./responses_request.ts";
import {
  customInput,
  messageItem,
  newItemId,
  reasoningItem,
  responseObject,
  responsesUsage,
  statusOfFinish,
} from "./responses_reply.ts";

type Obj = Record<string, unknown>;
const ENCODER = new TextEncoder();

type TextKind = "message" | "reasoning";
const PART_OF: Readonly<Record<TextKind, string>> = {
  message: "output_text",
  reasoning: "reasoning_text",
};

function textPart(kind: TextKind, text: string): Obj {
  return kind === "message"
    ? { type: "output_text", text, annotations: [], logprobs: [] }
    : { type: "reasoning_text", text };
}

interface OpenCall {
  outputIndex: number;
  id: string;
  callId: string;
  name: string;
  args: string;
  custom: boolean;
}

/** The translation state of one stream. */
class ChatToResponses {
  readonly #ctx: ResponsesContext;
  readonly #id = newItemId("resp_");
  readonly #createdAt = Math.floor(Date.now() / 1000);
  #seq = 0;
  #out = "";
  #started = false;
  #ended = false;
  /** Finished output items, by output index. */
  readonly #output: Obj[] = [];
  /** The open text item: the answer (`message`) or the model's reasoning (`reasoning`). */
  #text: { kind: TextKind; outputIndex: number; id: string; text: string } | undefined;
  /** Chat tool-call index → its open item. */
  readonly #calls = new Map<number, OpenCall>();
  #finish: unknown;
  #usage: Obj | undefined;

  constructor(ctx: ResponsesContext) {
    this.#ctx = ctx;
  }

  #event(type: string, data: Obj): void {
    const body = JSON.stringify({ type, sequence_number: this.#seq++, ...data });
    this.#out += `event: ${type}\ndata: ${body}\n\n`;
  }

  #response(status: string, extra: { incomplete?: Obj | null; error?: Obj | null } = {}): Obj {
    const usage = status === "in_progress" ? null : responsesUsage(this.#usage);
    return responseObject(this.#id, this.#createdAt, this.#ctx, {
      status,
      output: this.#output.filter((o) => o !== undefined),
      usage,
      ...extra,
    });
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    const response = this.#response("in_progress");
    this.#event("response.created", { response });
    this.#event("response.in_progress", { response });
  }

  take(): string {
    const out = this.#out;
    this.#out = "";
    return out;
  }

  onFrame(frame: SseFrame): void {
    if (this.#ended) return;
    if (frame.data === "[DONE]") return this.#complete();
    const chunk = parseObject(frame.data);
    if (chunk === undefined) return;
    this.#start();
    const err = asRecord(chunk.error);
    if (err !== undefined) {
      return this.fail(
        typeof err.message === "string" ? err.message : "The upstream reported an error",
        typeof err.code === "string" ? err.code : "server_error",
      );
    }
    const usage = asRecord(chunk.usage);
    if (usage !== undefined) this.#usage = usage;
    const choice = asRecord(Array.isArray(chunk.choices) ? chunk.choices[0] : undefined);
    if (choice === undefined) return;
    const delta = asRecord(choice.delta) ?? {};
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (typeof reasoning === "string" && reasoning !== "") this.#textDelta("reasoning", reasoning);
    if (typeof delta.content === "string" && delta.content !== "") {
      this.#textDelta("message", delta.content);
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const c of delta.tool_calls) {
        const call = asRecord(c);
        if (call !== undefined) this.#callDelta(call);
      }
    }
    if (typeof choice.finish_reason === "string") this.#finish = choice.finish_reason;
  }

  #textDelta(kind: TextKind, delta: string): void {
    let t = this.#text;
    if (t?.kind !== kind) {
      this.#closeText("completed");
      const id = newItemId(kind === "message" ? "msg_" : "rs_");
      t = this.#text = { kind, outputIndex: this.#output.length, id, text: "" };
      this.#output.push(undefined as unknown as Obj); // its place, filled when it is done
      this.#event("response.output_item.added", {
        output_index: t.outputIndex,
        item: kind === "message"
          ? { type: "message", id, status: "in_progress", role: "assistant", content: [] }
          : { type: "reasoning", id, summary: [], content: [] },
      });
      this.#event("response.content_part.added", {
        item_id: id,
        output_index: t.outputIndex,
        content_index: 0,
        part: textPart(kind, ""),
      });
    }
    t.text += delta;
    this.#event(`response.${PART_OF[kind]}.delta`, {
      item_id: t.id,
      output_index: t.outputIndex,
      content_index: 0,
      delta,
      ...(kind === "message" ? { logprobs: [] } : {}),
    });
  }

  #closeText(status: string): void {
    const t = this.#text;
    if (t === undefined) return;
    this.#text = undefined;
    const part = textPart(t.kind, t.text);
    this.#event(`response.${PART_OF[t.kind]}.done`, {
      item_id: t.id,
      output_index: t.outputIndex,
      content_index: 0,
      text: t.text,
      ...(t.kind === "message" ? { logprobs: [] } : {}),
    });
    this.#event("response.content_part.done", {
      item_id: t.id,
      output_index: t.outputIndex,
      content_index: 0,
      part,
    });
    const item = t.kind === "message"
      ? messageItem(t.id, t.text, status)
      : reasoningItem(t.id, t.text);
    this.#output[t.outputIndex] = item;
    this.#event("response.output_item.done", { output_index: t.outputIndex, item });
  }

  #callDelta(call: Obj): void {
    const index = typeof call.index === "number" ? call.index : 0;
    const fn = asRecord(call.function) ?? {};
    let open = this.#calls.get(index);
    if (open === undefined) {
      // Items follow each other: the text before a call is done when the call begins.
      this.#closeText("completed");
      const name = typeof fn.name === "string" ? fn.name : "";
      const custom = this.#ctx.customTools.has(name);
      open = {
        outputIndex: this.#output.length,
        id: newItemId(custom ? "ctc_" : "fc_"),
        callId: typeof call.id === "string" ? call.id : `call_${index}`,
        name,
        args: "",
        custom,
      };
      this.#calls.set(index, open);
      this.#output.push(undefined as unknown as Obj);
      this.#event("response.output_item.added", {
        output_index: open.outputIndex,
        item: this.#callItem(open, "in_progress", ""),
      });
    }
    if (typeof fn.arguments === "string" && fn.arguments !== "") {
      open.args += fn.arguments;
      // A freeform tool's input is inside the JSON being written: it is sent whole when done.
      if (!open.custom) {
        this.#event("response.function_call_arguments.delta", {
          item_id: open.id,
          output_index: open.outputIndex,
          delta: fn.arguments,
        });
      }
    }
  }

  #callItem(c: OpenCall, status: string, body: string): Obj {
    return c.custom
      ? { type: "custom_tool_call", id: c.id, call_id: c.callId, name: c.name, input: body, status }
      : {
        type: "function_call",
        id: c.id,
        call_id: c.callId,
        name: c.name,
        arguments: body,
        status,
      };
  }

  #closeCalls(status: string): void {
    for (const c of this.#calls.values()) {
      if (c.custom) {
        const input = customInput(c.args);
        this.#event("response.custom_tool_call_input.delta", {
          item_id: c.id,
          output_index: c.outputIndex,
          delta: input,
        });
        this.#event("response.custom_tool_call_input.done", {
          item_id: c.id,
          output_index: c.outputIndex,
          input,
        });
        c.args = input;
      } else {
        this.#event("response.function_call_arguments.done", {
          item_id: c.id,
          output_index: c.outputIndex,
          name: c.name,
          arguments: c.args,
        });
      }
      const item = this.#callItem(c, status, c.args);
      this.#output[c.outputIndex] = item;
      this.#event("response.output_item.done", { output_index: c.outputIndex, item });
    }
    this.#calls.clear();
  }

  #complete(): void {
    if (this.#ended) return;
    this.#start();
    this.#ended = true;
    const { status, incomplete } = statusOfFinish(this.#finish);
    this.#closeText(status);
    this.#closeCalls(status);
    const response = this.#response(status, { incomplete });
    this.#event(status === "completed" ? "response.completed" : "response.incomplete", {
      response,
    });
  }

  /** Ends the stream as failed; what was produced so far goes with it. */
  fail(message: string, code = "server_error"): void {
    if (this.#ended) return;
    this.#start();
    this.#ended = true;
    this.#closeText("incomplete");
    this.#closeCalls("incomplete");
    const response = this.#response("failed", { error: { code, message } });
    this.#event("response.failed", { response });
  }

  /** The chat stream ended: without a terminal frame, that is a failure unless it had finished. */
  end(): void {
    if (this.#ended) return;
    if (this.#finish !== undefined) return this.#complete();
    this.fail("The upstream stream ended before the response was complete");
  }
}

/** Rewrites a Chat Completions SSE body into Responses API events as bytes arrive. */
export function chatToResponsesStream(
  ctx: ResponsesContext,
): TransformStream<Uint8Array, Uint8Array> {
  const t = new ChatToResponses(ctx);
  const scanner = new SseScanner((f) => t.onFrame(f));
  const flush = (controller: TransformStreamDefaultController<Uint8Array>) => {
    const text = t.take();
    if (text !== "") controller.enqueue(ENCODER.encode(text));
  };
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      scanner.push(chunk);
      flush(controller);
    },
    flush(controller) {
      scanner.end();
      t.end();
      flush(controller);
    },
  });
}
