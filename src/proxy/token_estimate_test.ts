import assert from "node:assert/strict";
import {
  BLOCK_OVERHEAD,
  DOCUMENT_TOKENS,
  estimateInputTokens,
  IMAGE_TOKENS,
  MESSAGE_OVERHEAD,
  TOOL_OVERHEAD,
  TOOLS_PREAMBLE,
} from "./token_estimate.ts";

Deno.test("estimate: text is a token per four characters plus a message overhead", () => {
  const text = "x".repeat(40);
  assert.equal(
    estimateInputTokens({ messages: [{ role: "user", content: text }] }),
    MESSAGE_OVERHEAD + 10,
  );
  assert.equal(
    estimateInputTokens({ system: "abcde", messages: [{ role: "user", content: text }] }),
    MESSAGE_OVERHEAD + 2 + MESSAGE_OVERHEAD + 10,
  );
});

Deno.test("estimate: blocks, images, documents, tools and thinking", () => {
  const body = {
    system: [{ type: "text", text: "12345678" }],
    messages: [{
      role: "user",
      content: [
        {
          type: "image",
          source: { type: "base64", media_type: "image/png", data: "A".repeat(9000) },
        },
        { type: "document", source: { type: "base64", media_type: "application/pdf", data: "B" } },
        {
          type: "document",
          source: { type: "text", media_type: "text/plain", data: "c".repeat(8) },
        },
      ],
    }, {
      role: "assistant",
      content: [
        { type: "thinking", thinking: "y".repeat(4000), signature: "sig" },
        { type: "tool_use", id: "t1", name: "f", input: { a: 1 } },
      ],
    }],
    tools: [{ name: "f", input_schema: { type: "object" } }],
  };
  const tool = JSON.stringify(body.tools[0]).length;
  const expected = (MESSAGE_OVERHEAD + BLOCK_OVERHEAD + 2) +
    (MESSAGE_OVERHEAD + 3 * BLOCK_OVERHEAD + IMAGE_TOKENS + DOCUMENT_TOKENS + 2) +
    (MESSAGE_OVERHEAD + 2 * BLOCK_OVERHEAD + 0 + Math.ceil(("f".length + '{"a":1}'.length) / 4)) +
    TOOLS_PREAMBLE + TOOL_OVERHEAD + Math.ceil(tool / 4);
  assert.equal(estimateInputTokens(body), expected);
});

Deno.test("estimate: never below one, whatever the shape", () => {
  assert.equal(estimateInputTokens({}), 1);
  assert.equal(estimateInputTokens({ messages: "not a list", tools: [] }), 1);
  assert.ok(
    estimateInputTokens({
      messages: [{ role: "user", content: [{ type: "new_kind", v: "z".repeat(400) }] }],
    }) > 100,
  );
});
