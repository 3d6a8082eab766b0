import assert from "node:assert/strict";
import { NativeBody, ReasoningOwners, withResponsesTier } from "./responses_native.ts";
import type { Routes } from "./_routes.ts";

const DECODER = new TextDecoder();

Deno.test("ReasoningOwners forgets the oldest blobs past its bound; a re-seen blob is new again", () => {
  const owners = new ReasoningOwners(2);
  owners.remember(["a"], "acct-1");
  owners.remember(["b"], "acct-2");
  owners.remember(["a"], "acct-1"); // now the newest
  owners.remember(["c"], "acct-3");
  assert.equal(owners.ownerOf("a"), "acct-1");
  assert.equal(owners.ownerOf("b"), undefined);
  assert.equal(owners.ownerOf("c"), "acct-3");
});

Deno.test("NativeBody keeps the client's bytes when nothing changes, and drops only foreign reasoning", () => {
  const raw = new TextEncoder().encode('{"model":"m","input":"hi"}');
  const plain = new NativeBody({ model: "m", input: "hi" }, "m", raw).forAccount(
    "x",
    new ReasoningOwners(),
  );
  assert.equal(plain.bytes, raw);
  assert.equal(plain.dropped, undefined);

  const owners = new ReasoningOwners();
  owners.remember(["mine"], "acct-1");
  const body = new NativeBody({
    model: "m/provider",
    input: [
      { role: "user", content: "q" },
      { type: "reasoning", encrypted_content: "mine" },
      { type: "reasoning", encrypted_content: "theirs" },
      { type: "reasoning", summary: [] },
    ],
  }, "m");
  const own = body.forAccount("acct-1", owners);
  const sent = JSON.parse(DECODER.decode(own.bytes));
  assert.equal(sent.model, "m");
  assert.deepEqual(sent.input.map((i: { encrypted_content?: string }) => i.encrypted_content), [
    undefined,
    "mine",
    undefined,
  ]);
  assert.equal(own.dropped, "input[2] (encrypted reasoning of another account)");
  const other = JSON.parse(DECODER.decode(body.forAccount("acct-2", owners).bytes));
  assert.equal(other.input.length, 2);
});

Deno.test("withResponsesTier puts pass-through providers first only under prefer_native", () => {
  const routes: Routes = {
    tiers: [{ providers: new Set(["resp", "chat"]), protocol: "openai" }, {
      providers: new Set(["ant"]),
      protocol: "anthropic",
    }],
    providers: new Set(["resp", "chat", "ant"]),
    entries: [],
    upstreamOf: new Map([["resp", "openai"], ["chat", "openai"], ["ant", "anthropic"]]),
  };
  const serving = new Set(["resp", "ant"]); // an Anthropic provider is never passed a Responses body
  const first = withResponsesTier(routes, serving, true);
  assert.deepEqual([...first.native], ["resp"]);
  assert.deepEqual(first.routes.tiers.map((t) => [[...t.providers], t.protocol]), [
    [["resp"], "openai"],
    [["chat"], "openai"],
    [["ant"], "anthropic"],
  ]);
  const together = withResponsesTier(routes, serving, false);
  assert.equal(together.routes, routes);
  assert.deepEqual([...together.native], ["resp"]);
});
