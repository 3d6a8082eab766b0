/**
 * Tool-call ids across protocols, stateless so they survive any number of
 * turns and any account. Anthropic wants `^[a-zA-Z0-9_-]+$` for `tool_use`
 * ids; OpenAI takes any string. An id that already fits goes through as is;
 * any other (some OpenAI-compatible providers send `functions.get:0`) is
 * hex-encoded behind a marker, and decoded again when the client sends it back.
 */

const SAFE_ID = /^[a-zA-Z0-9_-]+$/;
const MARKER = "toolu_x";
const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();

/** An OpenAI tool-call id as an Anthropic `tool_use` id. */
export function toAnthropicId(id: string): string {
  if (SAFE_ID.test(id) && !id.startsWith(MARKER)) return id;
  let hex = "";
  for (const b of ENCODER.encode(id)) hex += b.toString(16).padStart(2, "0");
  return MARKER + hex;
}

/** The inverse of {@linkcode toAnthropicId}: the original id for the OpenAI side. */
export function toOpenAiId(id: string): string {
  if (!id.startsWith(MARKER)) return id;
  const hex = id.slice(MARKER.length);
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) return id;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return DECODER.decode(bytes);
}

/** A fresh id for a tool call an upstream sent without one. */
export function newToolId(index: number): string {
  return `call_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}${index}`;
}
