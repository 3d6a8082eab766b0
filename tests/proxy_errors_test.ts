/** Bad input gets the protocol's own error envelope, and every request past auth gets a stats row. */
import assert from "node:assert/strict";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, mockProvidersToml, postChat, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const PATHS = { openai: "/v1/chat/completions", anthropic: "/v1/messages" } as const;
type P = keyof typeof PATHS;

function assertEnvelope(protocol: P, body: Record<string, unknown>, type: RegExp, message: RegExp) {
  if (protocol === "anthropic") {
    assert.equal(body.type, "error");
    const err = body.error as { type: string; message: string };
    assert.match(err.type, type);
    assert.match(err.message, message);
  } else {
    const err = body.error as { type: string; message: string };
    assert.ok(err, `OpenAI envelope expected, got ${JSON.stringify(body)}`);
    assert.match(err.type, type);
    assert.match(err.message, message);
  }
}

Deno.test("intake errors use each protocol's envelope and status", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  // The endpoint-naming 400 exists only with the transcoder off (09-decisions).
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: "[transcoder]\nenabled = false\n" + mockProvidersToml(mock.url),
  });
  const post = (protocol: P, body: BodyInit, headers: Record<string, string> = {}) =>
    fetch(pool.origin + PATHS[protocol], {
      method: "POST",
      headers: {
        authorization: `Bearer ${LOCAL_KEY}`,
        "content-type": "application/json",
        ...headers,
      },
      body,
    });
  for (const protocol of ["openai", "anthropic"] as const) {
    const model = protocol === "openai" ? "mock-small/mockoai" : "mock-small/mockant";
    const unauth = await fetch(pool.origin + PATHS[protocol], {
      method: "POST",
      headers: { authorization: "Bearer ep_wrong_key_123456" },
      body: "{}",
    });
    assert.equal(unauth.status, 401);
    assertEnvelope(
      protocol,
      await unauth.json(),
      /authentication_error|invalid_request_error/,
      /API key/,
    );

    const viaHeader = await fetch(pool.origin + PATHS[protocol], {
      method: "POST",
      headers: { "x-api-key": "nope-nope-nope" },
      body: "{}",
    });
    assert.equal(viaHeader.status, 401);
    await viaHeader.body?.cancel();

    const malformed = await post(protocol, '{"model": "x", ');
    assert.equal(malformed.status, 400);
    assertEnvelope(protocol, await malformed.json(), /invalid_request_error/, /Invalid JSON/);

    const noModel = await post(protocol, JSON.stringify({ messages: [] }));
    assert.equal(noModel.status, 400);
    assertEnvelope(protocol, await noModel.json(), /invalid_request_error/, /model/);

    const unknown = await post(protocol, JSON.stringify({ model: "no-such-model", messages: [] }));
    assert.equal(unknown.status, 404);
    assertEnvelope(
      protocol,
      await unknown.json(),
      protocol === "anthropic" ? /not_found_error/ : /invalid_request_error/,
      /Model 'no-such-model' not found/,
    );

    const badStream = await post(protocol, JSON.stringify({ model, stream: "yes", messages: [] }));
    assert.equal(badStream.status, 400);
    assertEnvelope(protocol, await badStream.json(), /invalid_request_error/, /stream/);

    const other = protocol === "openai" ? "mock-small/mockant" : "mock-small/mockoai";
    const wrongEndpoint = await post(protocol, JSON.stringify({ model: other, messages: [] }));
    assert.equal(wrongEndpoint.status, 400);
    assertEnvelope(protocol, await wrongEndpoint.json(), /invalid_request_error/, /Use \/v1\//);
  }
  const rows = pool.query("SELECT status, status_code FROM requests");
  assert.equal(rows.length, 10, "every request that passed auth has exactly one row");
  assert.ok(rows.every((r) => r.status === "client_error"));
  assert.equal(calls(mock).length, 0, "no invalid request reached the upstream");
});

function calls<T extends { route: string }>(mock: { requests: T[] }): T[] {
  return mock.requests.filter((r) => r.route !== "models");
}

Deno.test("a body over max_request_body_bytes gets 413 without being read whole", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    server: "max_request_body_bytes = 2048",
    toml: mockProvidersToml(mock.url),
  });
  for (const protocol of ["openai", "anthropic"] as const) {
    // A streamed body with no content-length, far larger than the cap: if EggPool
    // buffered it whole the answer would only come after 64 MiB had been sent.
    const limit = 64 * 1024 * 1024;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= limit) return controller.close();
        sent += 1024;
        controller.enqueue(new Uint8Array(1024).fill(32));
      },
    });
    const res = await fetch(pool.origin + PATHS[protocol], {
      method: "POST",
      headers: { authorization: `Bearer ${LOCAL_KEY}`, "content-type": "application/json" },
      body,
    });
    assert.equal(res.status, 413);
    assertEnvelope(
      protocol,
      await res.json(),
      /request_too_large|invalid_request_error/,
      /too large/,
    );
    assert.ok(sent < limit, `EggPool answered before the body ended (sent ${sent} bytes)`);
  }
  const rows = pool.query("SELECT status, status_code FROM requests");
  assert.deepEqual(rows.map((r) => r.status_code), [413, 413]);
});

Deno.test("unknown routes get 404 and health endpoints need no key", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url) });
  const health = await fetch(`${pool.origin}/v1/healthz`);
  assert.deepEqual(await health.json(), { status: "ok" });
  const ready = await fetch(`${pool.origin}/v1/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { status: "ok" });
  const models = await fetch(`${pool.origin}/v1/models`);
  assert.equal(models.status, 401);
  await models.body?.cancel();
  const missing = await fetch(`${pool.origin}/v1/nothing`, {
    headers: { authorization: `Bearer ${LOCAL_KEY}` },
  });
  assert.equal(missing.status, 404);
  assertEnvelope("openai", await missing.json(), /invalid_request_error/, /No route/);
});

Deno.test("an upstream error whose body stalls ends within the read timeout", async () => {
  await using tmp = await withTmpDir();
  // A provider that sends an error head, half a body, then nothing: a real
  // loopback server, since the mock always finishes its error bodies.
  const open = new Set<ReadableStreamDefaultController<Uint8Array>>();
  await using upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    if (req.method === "GET") {
      return Response.json({ object: "list", data: [{ id: "stall-model", object: "model" }] });
    }
    let own: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        own = controller;
        open.add(controller);
        controller.enqueue(new TextEncoder().encode('{"error": {"type": "server_'));
      },
      cancel() {
        open.delete(own);
      },
    });
    return new Response(body, { status: 503, headers: { "content-type": "application/json" } });
  });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: [
      "[providers.stall]",
      'id = "stall"',
      `base_url = "http://127.0.0.1:${upstream.addr.port}/v1"`,
      "read_timeout_s = 0.5",
      "[[providers.stall.accounts]]",
      'name = "stall-1"',
      'api_key = "sk-stall-key-1"',
    ].join("\n") + "\n",
  });
  const started = Date.now();
  const res = await postChat(pool, {
    model: "stall-model",
    messages: [{ role: "user", content: "x" }],
  });
  await res.body?.cancel();
  assert.ok(Date.now() - started < 5_000, "no hang on a stalled error body");
  assert.equal(res.status, 503);
  const [row] = pool.query("SELECT status, status_code FROM requests");
  assert.deepEqual({ ...row }, { status: "error", status_code: 503 });
  for (const c of open) c.close();
});
