import assert from "node:assert/strict";
import { CLIENT_CLOSED_STATUS, readBoundedBody } from "./body.ts";
import { Deadlines } from "./deadlines.ts";
import { ProxyError } from "../core/errors.ts";

function streamOf(chunks: number[], onCancel: () => void): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i >= chunks.length) return controller.close();
      controller.enqueue(new Uint8Array(chunks[i++]).fill(120));
    },
    cancel: onCancel,
  });
}

Deno.test("readBoundedBody() returns a body under the cap", async () => {
  const req = new Request("http://x/", { method: "POST", body: streamOf([3, 4], () => {}) });
  const body = await readBoundedBody(req, 10);
  assert.equal(body.byteLength, 7);
});

Deno.test("readBoundedBody() refuses a declared content-length over the cap without reading", async () => {
  let pulled = false;
  const body = new ReadableStream({ pull: () => void (pulled = true) }, { highWaterMark: 0 });
  const req = new Request("http://x/", {
    method: "POST",
    body,
    headers: { "content-length": "11" },
  });
  await assert.rejects(
    readBoundedBody(req, 10),
    (e) => e instanceof ProxyError && e.status === 413,
  );
  assert.equal(pulled, false);
});

Deno.test("readBoundedBody() cancels a body that grows past the cap", async () => {
  let cancelled = false;
  const req = new Request("http://x/", {
    method: "POST",
    body: streamOf([6, 6, 6, 6], () => void (cancelled = true)),
  });
  await assert.rejects(
    readBoundedBody(req, 10),
    (e) => e instanceof ProxyError && e.status === 413,
  );
  assert.equal(cancelled, true);
});

Deno.test("readBoundedBody() reads a body with a declared length within the cap in one go", async () => {
  const req = new Request("http://x/", {
    method: "POST",
    body: new TextEncoder().encode('{"model":"m"}'),
    headers: { "content-length": "13" },
  });
  const body = await readBoundedBody(req, 100);
  assert.equal(new TextDecoder().decode(body), '{"model":"m"}');
});

Deno.test("readBoundedBody() answers 408 when the body does not arrive within the timeout", async () => {
  const deadlines = new Deadlines(5);
  let cancelled = false;
  const stuck = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode('{"mo'));
    },
    cancel: () => void (cancelled = true),
  });
  const req = new Request("http://x/", { method: "POST", body: stuck });
  // The shared timer is unref'd (a server's listener keeps the loop alive);
  // here a plain timer does.
  const alive = setTimeout(() => {}, 10_000);
  await assert.rejects(
    readBoundedBody(req, 100, req.headers, deadlines, 30),
    (e) => e instanceof ProxyError && e.status === 408 && /body_timeout_s/.test(e.message),
  );
  assert.equal(deadlines.size, 0, "the deadline is cleared");
  assert.equal(cancelled, false, "nothing else is done to the stream");
  clearTimeout(alive);
  deadlines.close();
});

Deno.test("readBoundedBody() clears its deadline when the body arrives in time", async () => {
  const deadlines = new Deadlines(5);
  const req = new Request("http://x/", { method: "POST", body: streamOf([3, 4], () => {}) });
  const body = await readBoundedBody(req, 10, req.headers, deadlines, 10_000);
  assert.equal(body.byteLength, 7);
  assert.equal(deadlines.size, 0);
});

Deno.test("readBoundedBody() reports a body cut off by the client as the client's doing", async () => {
  const cut = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array(3));
      c.error(new TypeError("connection reset"));
    },
  });
  const req = new Request("http://x/", { method: "POST", body: cut });
  await assert.rejects(
    readBoundedBody(req, 100),
    (e) =>
      e instanceof ProxyError && e.status === CLIENT_CLOSED_STATUS &&
      e.code === "client_disconnected",
  );
});
