/**
 * Stream translators: one upstream SSE frame in, the client protocol's frames
 * out, as they arrive (spec 04 §7.2). State is bounded: the open block, the
 * tool-call indexes and the usage so far, never the answer's text.
 *
 * The relay owns the stream's ending: it calls {@linkcode StreamTranslator.finish}
 * only when the upstream ended cleanly, and otherwise sends the client
 * protocol's error event itself, so a cut stream never looks complete here.
 */
import type { SseFrame } from "../sse.ts";
import { parseObject } from "../usage.ts";
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
import { prefixedId } from "./response.ts";
import { newToolId, toAnthropicId } from "./tool_ids.ts";

/** Translates one stream; see the module comment for who ends it. */
export interface StreamTranslator {
  onFrame(frame: SseFrame): void;
  /** Bytes produced since the last call (often empty). */
  take(): Uint8Array;
  /** Closing frames when the upstream ended cleanly without sending what the client needs. */
  finish(): Uint8Array;
}

type Obj = Record<string, unknown>;
const ENCODER = new TextEncoder();
const EMPTY = new Uint8Array(0);

abstract class Base implements StreamTranslator {
  #out = "";
  constructor(protected readonly ctx: TranslationContext) {}

  abstract onFrame(frame: SseFrame): void;
  protected abstract close(): void;

  protected emit(text: string): void {
    this.#out += text;
  }

  take(): Uint8Array {
    if (this.#out === "") return EMPTY;
    const bytes = ENCODER.encode(this.#out);
    this.#out = "";
    return bytes;
  }

  finish(): Uint8Array {
    this.close();
    return this.take();
  }
}

/** Anthropic Messages events → OpenAI chat completion chunks. */
class AnthropicToOpenAi extends Base {
  #id = "";
  #model = "";
  #created = Math.floor(Date.now() / 1000);
  #usage: Obj = {};
  #finish: string | undefined;
  /** Content block index → tool-call index, or -1 for the forced JSON tool. */
  readonly #tools = new Map<number, number>();
  #started = false;
  #done = false;

  #chunk(delta: Obj, finish: string | null = null): void {
    const chunk = {
      id: this.#id,
      object: "chat.completion.chunk",
      created: this.#created,
      model: this.#model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
    this.emit(`data: ${JSON.stringify(chunk)}\n\n`);
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#id ||= prefixedId(undefined, "chatcmpl-");
    this.#model ||= this.ctx.model;
    this.#chunk({ role: "assistant", content: "" });
  }

  onFrame(frame: SseFrame): void {
    if (this.#done) return;
    const ev = parseObject(frame.data);
    if (ev === undefined) return;
    switch (ev.type) {
      case "message_start": {
        const msg = asRecord(ev.message) ?? {};
        this.#id = prefixedId(msg.id, "chatcmpl-");
        if (typeof msg.model === "string") this.#model = msg.model;
        Object.assign(this.#usage, asRecord(msg.usage));
        this.#start();
        return;
      }
      case "content_block_start": {
        this.#start();
        const block = asRecord(ev.content_block) ?? {};
        const index = Number(ev.index);
        if (block.type !== "tool_use") return;
        if (this.ctx.forcedTool !== undefined && block.name === this.ctx.forcedTool) {
          this.#tools.set(index, -1);
          return;
        }
        const n = [...this.#tools.values()].filter((v) => v >= 0).length;
        this.#tools.set(index, n);
        this.#chunk({
          tool_calls: [{
            index: n,
            id: typeof block.id === "string" ? block.id : newToolId(n),
            type: "function",
            function: { name: block.name, arguments: "" },
          }],
        });
        return;
      }
      case "content_block_delta": {
        this.#start();
        const d = asRecord(ev.delta) ?? {};
        if (d.type === "text_delta" && typeof d.text === "string") {
          this.#chunk({ content: d.text });
        } else if (
          this.ctx.reasoning && d.type === "thinking_delta" && typeof d.thinking === "string"
        ) {
          this.#chunk({ reasoning: d.thinking });
        } else if (d.type === "input_json_delta" && typeof d.partial_json === "string") {
          const n = this.#tools.get(Number(ev.index));
          if (n === -1) this.#chunk({ content: d.partial_json });
          else if (n !== undefined) {
            this.#chunk({ tool_calls: [{ index: n, function: { arguments: d.partial_json } }] });
          }
        }
        return;
      }
      case "message_delta": {
        const d = asRecord(ev.delta) ?? {};
        if (typeof d.stop_reason === "string") {
          const forcedOnly = this.#tools.size > 0 && [...this.#tools.values()].every((v) => v < 0);
          this.#finish = forcedOnly ? "stop" : FINISH_OF_STOP[d.stop_reason] ?? "stop";
        }
        Object.assign(this.#usage, asRecord(ev.usage));
        return;
      }
      case "message_stop":
        this.close();
        return;
      case "error": {
        const err = asRecord(ev.error) ?? {};
        const type = OPENAI_ERROR_OF[String(err.type)] ?? "api_error";
        const body = {
          error: { message: err.message ?? "Upstream error", type, param: null, code: type },
        };
        this.emit(`data: ${JSON.stringify(body)}\n\n`);
        this.#done = true;
        return;
      }
    }
  }

  protected close(): void {
    if (this.#done) return;
    this.#done = true;
    this.#start();
    this.#chunk({}, this.#finish ?? "stop");
    if (this.ctx.includeUsage) {
      const chunk = {
        id: this.#id,
        object: "chat.completion.chunk",
        created: this.#created,
        model: this.#model,
        choices: [],
        usage: openAiUsageOf(this.#usage),
      };
      this.emit(`data: ${JSON.stringify(chunk)}\n\n`);
    }
    this.emit("data: [DONE]\n\n");
  }
}

type BlockKind = "text" | "thinking" | "tool";

/** OpenAI chat completion chunks → Anthropic Messages events. */
class OpenAiToAnthropic extends Base {
  #started = false;
  #done = false;
  /** Index and kind of the open content block. */
  #block: { index: number; kind: BlockKind; tool?: number } | undefined;
  #next = 0;
  #finish: string | undefined;
  #usage: Obj | undefined;
  #sawTool = false;

  #event(type: string, data: Obj): void {
    this.emit(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  }

  #start(chunk: Obj): void {
    if (this.#started) return;
    this.#started = true;
    this.#event("message_start", {
      message: {
        id: prefixedId(chunk.id, "msg_"),
        type: "message",
        role: "assistant",
        model: typeof chunk.model === "string" ? chunk.model : this.ctx.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    });
  }

  #closeBlock(): void {
    if (this.#block === undefined) return;
    this.#event("content_block_stop", { index: this.#block.index });
    this.#block = undefined;
  }

  #open(kind: BlockKind, contentBlock: Obj, tool?: number): number {
    this.#closeBlock();
    const index = this.#next++;
    this.#block = { index, kind, tool };
    this.#event("content_block_start", { index, content_block: contentBlock });
    return index;
  }

  #text(kind: "text" | "thinking", text: string): void {
    if (text === "") return;
    let index = this.#block?.index;
    if (this.#block?.kind !== kind) {
      index = this.#open(
        kind,
        kind === "text"
          ? { type: "text", text: "" }
          : { type: "thinking", thinking: "", signature: "" },
      );
    }
    const delta = kind === "text"
      ? { type: "text_delta", text }
      : { type: "thinking_delta", thinking: text };
    this.#event("content_block_delta", { index, delta });
  }

  #toolDelta(call: Obj): void {
    const n = typeof call.index === "number" ? call.index : 0;
    const fn = asRecord(call.function) ?? {};
    const isNew = this.#block?.kind !== "tool" || this.#block.tool !== n;
    if (isNew) {
      this.#sawTool = true;
      this.#open("tool", {
        type: "tool_use",
        id: toAnthropicId(typeof call.id === "string" ? call.id : newToolId(n)),
        name: typeof fn.name === "string" ? fn.name : "",
        input: {},
      }, n);
    }
    if (typeof fn.arguments === "string" && fn.arguments !== "") {
      this.#event("content_block_delta", {
        index: this.#block!.index,
        delta: { type: "input_json_delta", partial_json: fn.arguments },
      });
    }
  }

  onFrame(frame: SseFrame): void {
    if (this.#done) return;
    if (frame.data === "[DONE]") {
      this.close();
      return;
    }
    const chunk = parseObject(frame.data);
    if (chunk === undefined) return;
    const err = asRecord(chunk.error);
    if (err !== undefined) {
      this.#event("error", {
        error: { type: anthropicErrorType(err), message: err.message ?? "Upstream error" },
      });
      this.#done = true;
      return;
    }
    if (asRecord(chunk.usage) !== undefined) this.#usage = asRecord(chunk.usage);
    const choice = asRecord(Array.isArray(chunk.choices) ? chunk.choices[0] : undefined);
    if (choice === undefined) return;
    this.#start(chunk);
    const delta = asRecord(choice.delta) ?? {};
    const reasoning = delta.reasoning_content ?? delta.reasoning;
    if (this.ctx.reasoning && typeof reasoning === "string") this.#text("thinking", reasoning);
    if (typeof delta.content === "string") this.#text("text", delta.content);
    if (Array.isArray(delta.tool_calls)) {
      for (const c of delta.tool_calls) {
        const call = asRecord(c);
        if (call !== undefined) this.#toolDelta(call);
      }
    }
    if (typeof choice.finish_reason === "string") this.#finish = choice.finish_reason;
  }

  protected close(): void {
    if (this.#done) return;
    this.#done = true;
    if (!this.#started) this.#start({});
    this.#closeBlock();
    // A call cut by the token limit is not a finished call: the limit is the reason.
    const stop = this.#finish === "length"
      ? "max_tokens"
      : this.#sawTool
      ? "tool_use"
      : STOP_OF_FINISH[this.#finish ?? "stop"] ?? "end_turn";
    this.#event("message_delta", {
      delta: { stop_reason: stop, stop_sequence: null },
      usage: anthropicUsageOf(this.#usage),
    });
    this.#event("message_stop", {});
  }
}

/** The translator for a stream whose upstream speaks `from`. */
export function createStreamTranslator(
  from: "openai" | "anthropic",
  ctx: TranslationContext,
): StreamTranslator {
  return from === "anthropic" ? new AnthropicToOpenAi(ctx) : new OpenAiToAnthropic(ctx);
}
