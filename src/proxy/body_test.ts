import assert from "node:assert/strict";
import { readBoundedBody } from "./body.ts";
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
