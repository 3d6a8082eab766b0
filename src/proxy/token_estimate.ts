/**
 * A local guess at the input tokens of an Anthropic Messages request, for
 * `POST /v1/messages/count_tokens` when no Anthropic account can count it.
 * No tokenizer ships with EggPool, so this is a rule of thumb, not a count:
 *
 * - text (system prompt, message text, tool results, tool arguments, tool
 *   definitions as JSON): one token per 4 characters, rounded up;
 * - a fixed overhead per message (the role and turn markers) and per content
 *   block, and once for a request that defines tools (the tool-use preamble
 *   the provider adds);
 * - a flat cost per image and per non-text document, since their size in
 *   tokens depends on pixels and pages EggPool does not decode;
 * - earlier `thinking` blocks count nothing: providers drop them from the
 *   context of later turns.
 *
 * Expect it within a few tens of percent of a real tokenizer for English and
 * code; clients use it for context budgeting, where that is enough.
 */

/** Characters per token for text. */
export const CHARS_PER_TOKEN = 4;
/** Role and turn markers of one message. */
export const MESSAGE_OVERHEAD = 4;
/** Framing of one content block. */
export const BLOCK_OVERHEAD = 3;
/** Framing of one tool definition. */
export const TOOL_OVERHEAD = 10;
/** The tool-use instructions a provider adds once when tools are defined. */
export const TOOLS_PREAMBLE = 300;
/** One image: about what a picture of a megapixel costs. */
export const IMAGE_TOKENS = 1_600;
/** One document that is not plain text (a PDF, say): a few pages' worth. */
export const DOCUMENT_TOKENS = 3_000;

function textTokens(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

function jsonChars(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === "string") return value.length;
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return 0;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Tokens of a `content` value: a string or a list of blocks. */
function contentTokens(content: unknown): number {
  if (typeof content === "string") return textTokens(content.length);
  if (!Array.isArray(content)) return textTokens(jsonChars(content));
  let total = 0;
  for (const block of content) total += BLOCK_OVERHEAD + blockTokens(block);
  return total;
}

function blockTokens(block: unknown): number {
  if (typeof block === "string") return textTokens(block.length);
  if (!isRecord(block)) return 0;
  switch (block.type) {
    case "text":
      return textTokens(typeof block.text === "string" ? block.text.length : 0);
    case "image":
      return IMAGE_TOKENS;
    case "document": {
      const source = isRecord(block.source) ? block.source : undefined;
      if (source?.type === "text" && typeof source.data === "string") {
        return textTokens(source.data.length);
      }
      if (source?.type === "content") return contentTokens(source.content);
      return DOCUMENT_TOKENS;
    }
    case "tool_use":
    case "server_tool_use":
      return textTokens(jsonChars(block.name) + jsonChars(block.input));
    case "tool_result":
      return contentTokens(block.content);
    case "thinking":
    case "redacted_thinking":
      return 0;
    default:
      return textTokens(jsonChars(block));
  }
}

/** The estimate for a Messages-shaped body (`system`, `messages`, `tools`). */
export function estimateInputTokens(body: Readonly<Record<string, unknown>>): number {
  let total = 0;
  const system = body.system;
  if (system !== undefined && system !== null) total += MESSAGE_OVERHEAD + contentTokens(system);
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) {
      if (isRecord(m)) total += MESSAGE_OVERHEAD + contentTokens(m.content);
    }
  }
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    total += TOOLS_PREAMBLE;
    for (const tool of body.tools) total += TOOL_OVERHEAD + textTokens(jsonChars(tool));
  }
  return Math.max(1, total);
}
