/**
 * The conversation key of a request, for prompt-cache affinity (issue #5):
 * which conversation a turn belongs to, so later turns reach the account whose
 * provider-side prompt cache already holds the prefix. Only a short hash of
 * the identifying value ever leaves this module. What each client sends is
 * listed in spec 10-clients.md.
 */
import { hash64 } from "../core/hash64.ts";
import type { HeaderReader } from "../core/headers.ts";

/** Where a conversation key came from, most explicit first. */
export type SessionKeySource =
  | "eggpool_header"
  | "claude_code_header"
  | "anthropic_metadata"
  | "session_header"
  | "prompt_cache_key"
  | "body_conversation"
  | "content";

/** A request's conversation key: never the raw value, only its hash. */
export interface SessionKey {
  /** 16 hex characters: {@linkcode hash64} over the namespace and the value. */
  hash: string;
  source: SessionKeySource;
}

/** Our own header: a client that knows EggPool names its conversation outright. */
export const EGGPOOL_SESSION_HEADER = "x-eggpool-session";

/**
 * Headers that carry a conversation id, in order: OpenCode sends
 * `x-session-affinity` and `x-session-id`; Codex sends `session-id` and
 * `thread-id` (spec 10-clients.md).
 */
const SESSION_HEADERS = ["x-session-affinity", "x-session-id", "session-id", "thread-id"] as const;

/** Values longer than this are cut before hashing; ids are short, this only bounds the work. */
const MAX_ID_CHARS = 512;
/** Characters of system prompt and first user message that key a content-derived conversation. */
const MAX_CONTENT_CHARS = 8_192;

/**
 * Ids share one namespace whatever carried them (Claude Code's header and its
 * `metadata.user_id` name the same session); content keys get their own.
 */
function shortHash(source: SessionKeySource, value: string): SessionKey {
  const space = source === "content" ? "content" : "id";
  const hash = hash64(`${space}\u0000${value}`);
  return { hash, source };
}

function idOf(value: unknown): string | undefined {
  if (typeof value === "string") {
    const v = value.trim();
    return v === "" ? undefined : v.slice(0, MAX_ID_CHARS);
  }
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    return idOf((value as Record<string, unknown>).id);
  }
  return undefined;
}

/**
 * The session part of Claude Code's `metadata.user_id`: current releases send
 * a JSON string with `session_id`; older ones `user_<hex>_account_<uuid>_session_<uuid>`.
 * Anything else is taken whole (an SDK user's own id is still a stable key).
 */
function claudeUserId(raw: string): string {
  if (raw.startsWith("{")) {
    try {
      const parsed = JSON.parse(raw) as Record<string, unknown>;
      const session = idOf(parsed?.session_id);
      if (session !== undefined) return session;
    } catch {
      // Not JSON after all: fall through to the whole value.
    }
  }
  const match = /_session_([0-9a-zA-Z-]+)$/.exec(raw);
  return match ? match[1] : raw;
}

/** Text of a message's content (string, or the text parts of a block list). */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let out = "";
  for (const part of content) {
    if (typeof part === "string") out += part + "\n";
    else if (typeof part === "object" && part !== null) {
      const text = (part as Record<string, unknown>).text;
      if (typeof text === "string") out += text + "\n";
    }
  }
  return out;
}

function normalize(text: string): string {
  // Cut before normalizing so a huge pasted message costs no more than a short one.
  return text.slice(0, MAX_CONTENT_CHARS * 2).replace(/\s+/g, " ").trim().slice(
    0,
    MAX_CONTENT_CHARS,
  );
}

/**
 * The leading content of a request: system prompt (Anthropic `system`, or
 * OpenAI `system`/`developer` messages before the first user message) and the
 * first user message, whitespace-normalized. Undefined when there is no user
 * message to anchor on.
 */
function leadingContent(body: Record<string, unknown>): string | undefined {
  let system = textOf(body.system);
  const messages = Array.isArray(body.messages) ? body.messages : [];
  for (const m of messages) {
    if (typeof m !== "object" || m === null) continue;
    const { role, content } = m as Record<string, unknown>;
    if (role === "system" || role === "developer") system += "\n" + textOf(content);
    else if (role === "user") {
      const user = normalize(textOf(content));
      if (user === "") return undefined;
      return `${normalize(system)}\u0000${user}`;
    }
  }
  return undefined;
}

/**
 * The conversation key of a request; first match wins: `x-eggpool-session`,
 * Claude Code's session header, Anthropic `metadata.user_id`, the session
 * headers of OpenCode and Codex, OpenAI `prompt_cache_key`, a body
 * `conversation`/`thread_id`, else a hash of the leading content.
 * OpenAI's `user` is deliberately not used: it names an end user, whose
 * parallel conversations should still be spread.
 */
export function sessionKeyOf(
  headers: HeaderReader,
  body: Record<string, unknown>,
): SessionKey | undefined {
  const explicit = idOf(headers.get(EGGPOOL_SESSION_HEADER));
  if (explicit !== undefined) return shortHash("eggpool_header", explicit);
  const claude = idOf(headers.get("x-claude-code-session-id"));
  if (claude !== undefined) return shortHash("claude_code_header", claude);
  const metadata = body.metadata;
  if (typeof metadata === "object" && metadata !== null) {
    const userId = idOf((metadata as Record<string, unknown>).user_id);
    if (userId !== undefined) return shortHash("anthropic_metadata", claudeUserId(userId));
  }
  for (const name of SESSION_HEADERS) {
    const v = idOf(headers.get(name));
    if (v !== undefined) return shortHash("session_header", v);
  }
  const cacheKey = idOf(body.prompt_cache_key);
  if (cacheKey !== undefined) return shortHash("prompt_cache_key", cacheKey);
  const conversation = idOf(body.conversation) ?? idOf(body.conversation_id) ??
    idOf(body.thread_id) ?? idOf(body.thread);
  if (conversation !== undefined) return shortHash("body_conversation", conversation);
  const content = leadingContent(body);
  return content === undefined ? undefined : shortHash("content", content);
}
