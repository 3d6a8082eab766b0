import assert from "node:assert/strict";
import { pathOf } from "./server.ts";

Deno.test("pathOf() returns the path of an absolute URL without query or fragment", () => {
  assert.equal(pathOf("http://127.0.0.1:11300/v1/messages?beta=true"), "/v1/messages");
  assert.equal(pathOf("http://h/v1/chat/completions"), "/v1/chat/completions");
  assert.equal(pathOf("http://h/v1/chat/completions#x"), "/v1/chat/completions");
  assert.equal(pathOf("http://h"), "/");
  assert.equal(pathOf("https://[::1]:8080/a/b?c#d"), "/a/b");
});
