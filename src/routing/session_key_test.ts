import assert from "node:assert/strict";
import { sessionKeyOf } from "./session_key.ts";

const SYSTEM = { role: "system", content: "You are a  helpful\nagent." };
const BODY = { model: "m", messages: [SYSTEM, { role: "user", content: "Fix the bug" }] };

function key(headers: Record<string, string>, body: Record<string, unknown> = BODY) {
  return sessionKeyOf(new Headers(headers), body);
}

Deno.test("sessionKeyOf() prefers x-eggpool-session and never returns the raw value", () => {
  const k = key({ "x-eggpool-session": "conv-1", "x-session-id": "ses_2" });
  assert.equal(k?.source, "eggpool_header");
  assert.match(k!.hash, /^[0-9a-f]{16}$/);
  assert.notEqual(k!.hash, "conv-1");
  assert.notEqual(k!.hash, key({ "x-eggpool-session": "conv-2" })!.hash);
});

Deno.test("sessionKeyOf() gives Claude Code's header and metadata.user_id the same key", () => {
  const uuid = "0b7c3f1e-9a55-4c2e-8d0b-2f6a1c9e7d40";
  const meta = {
    ...BODY,
    metadata: { user_id: JSON.stringify({ device_id: "ab".repeat(32), session_id: uuid }) },
  };
  const fromHeader = key({ "x-claude-code-session-id": uuid });
  const fromMeta = key({}, meta);
  assert.equal(fromHeader?.source, "claude_code_header");
  assert.equal(fromMeta?.source, "anthropic_metadata");
  assert.equal(fromHeader?.hash, fromMeta?.hash);
  const legacy = key({}, { ...BODY, metadata: { user_id: `user_abc_account__session_${uuid}` } });
  assert.equal(legacy?.hash, fromHeader?.hash);
});

Deno.test("sessionKeyOf() reads OpenCode and Codex session ids and prompt_cache_key", () => {
  assert.equal(
    key({ "x-session-affinity": "ses_1", "x-session-id": "ses_1" })?.source,
    "session_header",
  );
  assert.equal(key({ "session-id": "t1" })?.hash, key({ "x-session-id": "t1" })?.hash);
  const cacheKey = key({}, { ...BODY, prompt_cache_key: "thread-9" });
  assert.equal(cacheKey?.source, "prompt_cache_key");
  assert.equal(cacheKey?.hash, key({ "thread-id": "thread-9" })?.hash);
  assert.equal(key({}, { ...BODY, conversation: { id: "c1" } })?.source, "body_conversation");
});

Deno.test("sessionKeyOf() falls back to normalized system prompt plus first user message", () => {
  const a = key({});
  assert.equal(a?.source, "content");
  // Later turns append messages; whitespace differences do not matter.
  const later = {
    model: "m",
    messages: [
      { role: "system", content: "You are a helpful agent." },
      { role: "user", content: [{ type: "text", text: " Fix the  bug " }] },
      { role: "assistant", content: "Done" },
      { role: "user", content: "Now the tests" },
    ],
  };
  assert.equal(key({}, later)?.hash, a?.hash);
  const other = { ...BODY, messages: [{ ...SYSTEM, content: "Another agent" }, BODY.messages[1]] };
  assert.notEqual(key({}, other)?.hash, a?.hash);
  // Anthropic: `system` at the top level.
  const ant = { model: "m", system: "S", messages: [{ role: "user", content: "Q" }] };
  assert.equal(key({}, ant)?.source, "content");
  assert.equal(key({}, { model: "m", messages: [] }), undefined);
  // OpenAI `user` names an end user, not a conversation.
  assert.equal(key({}, { ...BODY, user: "u1" })?.hash, a?.hash);
});
