/**
 * One client must not take the pool out (issue #12): malformed requests stop
 * at intake, a request every upstream rejects with a 500 does not rest the
 * accounts, oversized upstream bodies are refused, `deflate` answers reach
 * the client readable, and the upstream's private headers never do.
 */
import assert from "node:assert/strict";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import type { MockUpstream, RecordedRequest } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, mockProvidersToml, postChat, startEggPool } from "./_helpers/eggpool.ts";
import type { TestEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const HELLO = [{ role: "user", content: "hello" }];

function completions(mock: MockUpstream): RecordedRequest[] {
  return mock.requests.filter((r) => r.route === "chat_completions" || r.route === "messages");
}

function backoffRows(pool: TestEggPool): Record<string, unknown>[] {
  return pool.query(
    `SELECT a.name, b.reason FROM account_backoffs b JOIN accounts a ON a.id = b.account_id`,
  ).map((row) => ({ ...row }));
}

function lastRequest(pool: TestEggPool): Record<string, unknown> {
  const rows = pool.query(
    `SELECT status, status_code, error_class, attempt_count FROM requests
     ORDER BY started_at DESC, id DESC LIMIT 1`,
  );
  assert.equal(rows.length, 1);
  return { ...rows[0] };
}

/** True for a chat body whose first message's content is an object (the upstream crashes on it). */
function contentIsObject(r: RecordedRequest): boolean {
  const body = r.body as { messages?: { content?: unknown }[] } | undefined;
  const content = body?.messages?.[0]?.content;
  return r.route === "chat_completions" && typeof content === "object" && content !== null &&
    !Array.isArray(content);
}

Deno.test("a malformed messages field is a 400 in the client's envelope, before any upstream call", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream();
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url, 2) });
  const cases = [
    { path: "/v1/chat/completions", model: "mock-small/mockoai", messages: { role: "user" } },
    { path: "/v1/messages", model: "mock-small/mockant", messages: "hello" },
    { path: "/v1/chat/completions", model: "mock-small/mockoai", messages: ["hello"] },
  ];
  for (const c of cases) {
    const res = await fetch(pool.origin + c.path, {
      method: "POST",
      headers: { authorization: `Bearer ${LOCAL_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: c.model, max_tokens: 10, messages: c.messages }),
    });
    assert.equal(res.status, 400);
    const body = await res.json();
    if (c.path === "/v1/messages") assert.equal(body.type, "error");
    assert.equal(body.error.type, "invalid_request_error");
    assert.match(body.error.message, /messages/);
  }
  assert.equal(completions(mock).length, 0, "no upstream call for a malformed request");
  const rows = pool.query(`SELECT status, status_code FROM requests`);
  assert.equal(rows.length, cases.length);
  for (const row of rows) {
    assert.deepEqual({ ...row }, { status: "client_error", status_code: 400 });
  }
});

Deno.test("a request every account answers with the same 500 stops after two accounts and rests none", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream();
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url, 4) });
  mock.script.set("*", {
    status: 500,
    match: contentIsObject,
    body: { error: { type: "server_error", message: "Internal error" } },
  });
  const bad = [{ role: "user", content: { text: "not a string" } }];
  for (let i = 0; i < 3; i++) {
    const res = await postChat(pool, { model: "mock-small/mockoai", messages: bad });
    assert.equal(res.status, 500);
    assert.equal(res.headers.get("x-proxy-attempt-count"), "2");
    assert.equal((await res.json()).error.type, "server_error");
  }
  assert.equal(completions(mock).length, 6, "two accounts tried per request, no more");
  assert.deepEqual(backoffRows(pool), []);
  const row = lastRequest(pool);
  assert.equal(row.status, "error");
  assert.equal(row.error_class, "upstream_rejected_request");

  // The pool still serves good requests on every account (distinct conversations, so no pinning).
  mock.reset();
  for (let i = 0; i < 8; i++) {
    const messages = [{ role: "user", content: `conversation ${i}` }];
    const ok = await postChat(pool, { model: "mock-small/mockoai", messages });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  }
  const keys = new Set(completions(mock).map((r) => r.key));
  assert.equal(keys.size, 4, "all four accounts took traffic");
});

Deno.test("a 500 that another account does not repeat still rests the account that sent it", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream();
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url, 3) });
  mock.script.set("*", { status: 500, times: 1 });
  const res = await postChat(pool, { model: "mock-small/mockoai", messages: HELLO });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-proxy-attempt-count"), "2");
  await res.body?.cancel();
  const failedKey = completions(mock)[0].key;
  const rows = backoffRows(pool);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].reason, "upstream_server_error");
  assert.equal(rows[0].name, `mockoai-${failedKey!.slice(-1)}`);
});

Deno.test("a 500 on a single-account pool is passed through and still rests the account", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream();
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url, 1) });
  mock.script.set("*", { status: 500, times: 1, message: "upstream fell over" });
  const res = await postChat(pool, { model: "mock-small/mockoai", messages: HELLO });
  assert.equal(res.status, 500);
  assert.match((await res.json()).error.message, /upstream fell over/);
  assert.deepEqual(backoffRows(pool), [{ name: "mockoai-1", reason: "upstream_server_error" }]);
});

Deno.test("an upstream body over max_response_body_bytes is a 502 and the account is not penalised", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ reply: "x".repeat(20_000) });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: mockProvidersToml(mock.url, 1),
    upstream: "max_response_body_bytes = 4096",
  });
  const res = await postChat(pool, { model: "mock-small/mockoai", messages: HELLO });
  assert.equal(res.status, 502);
  const body = await res.json();
  assert.match(body.error.message, /max_response_body_bytes \(4096 bytes\)/);
  const row = lastRequest(pool);
  assert.deepEqual(row, {
    status: "error",
    status_code: 502,
    error_class: "upstream_response_too_large",
    attempt_count: 1,
  });
  assert.deepEqual(backoffRows(pool), []);

  // Same account, a small answer: served.
  mock.configure({ reply: "short" });
  const ok = await postChat(pool, { model: "mock-small/mockoai", messages: HELLO });
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).choices[0].message.content, "short");
});

Deno.test("a stream whose head holds more than max_response_body_bytes before content is a 502", async () => {
  // Comment lines are SSE keep-alives: no content, so the relay keeps holding them.
  const padding = ": keep-alive\n\n".repeat(200);
  await using server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    if (new URL(req.url).pathname.endsWith("/models")) {
      return Response.json({ object: "list", data: [{ id: "mock-small", object: "model" }] });
    }
    return new Response(padding + 'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n', {
      headers: { "content-type": "text/event-stream" },
    });
  });
  await using tmp = await withTmpDir();
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: mockProvidersToml(`http://127.0.0.1:${server.addr.port}/v1`, 1),
    upstream: "max_response_body_bytes = 1024",
  });
  const res = await postChat(pool, { model: "mock-small/mockoai", messages: HELLO, stream: true });
  assert.equal(res.status, 502);
  assert.match((await res.json()).error.message, /max_response_body_bytes/);
  const row = lastRequest(pool);
  assert.equal(row.error_class, "upstream_response_too_large");
  assert.deepEqual(backoffRows(pool), []);
});

Deno.test("a deflate-encoded answer reaches the client decoded, zlib-wrapped or raw", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ reply: "squeezed" });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url, 1) });
  for (const contentEncoding of ["deflate", "deflate-raw"] as const) {
    mock.script.set("*", { contentEncoding, times: 2 });
    const res = await postChat(pool, { model: "mock-small/mockoai", messages: HELLO });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-encoding"), null);
    const body = await res.json();
    assert.equal(body.choices[0].message.content, "squeezed");
    assert.ok(body.usage.prompt_tokens > 0);

    const stream = await postChat(pool, {
      model: "mock-small/mockoai",
      messages: HELLO,
      stream: true,
    });
    assert.equal(stream.status, 200);
    const text = await stream.text();
    assert.match(text, /data: \[DONE\]/);
    assert.match(text, /squee/);
  }
  const rows = pool.query(
    `SELECT status, input_tokens FROM requests ORDER BY started_at, id`,
  );
  assert.equal(rows.length, 4);
  for (const row of rows) {
    assert.equal(row.status, "completed");
    assert.ok((row.input_tokens as number) > 0, "usage was read from the decoded body");
  }
});

Deno.test("a coding nobody decodes is passed on with its Content-Encoding header", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ reply: "labelled" });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url, 1) });
  mock.script.set("*", { contentEncoding: "zstd-fake", times: 1 });
  const res = await postChat(pool, { model: "mock-small/mockoai", messages: HELLO }, {
    "accept-encoding": "identity",
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-encoding"), "zstd");
  // The mock did not really compress: the bytes are the JSON, labelled zstd.
  assert.match(new TextDecoder().decode(await res.bytes()), /labelled/);
});

Deno.test("the upstream's credential and cookie headers never reach the client", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream();
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url, 1) });
  const headers = {
    authorization: "Bearer sk-upstream-secret",
    "x-api-key": "sk-upstream-secret",
    "set-cookie": "session=upstream; Path=/",
    "www-authenticate": 'Bearer realm="upstream"',
    "x-ratelimit-remaining-requests": "41",
  };
  mock.script.set("*", { headers, times: 1 }, { headers, status: 401, times: 1 });
  const ok = await postChat(pool, { model: "mock-small/mockoai", messages: HELLO });
  const err = await postChat(pool, { model: "mock-small/mockoai", messages: HELLO });
  for (const res of [ok, err]) {
    await res.body?.cancel();
    assert.equal(res.headers.get("authorization"), null);
    assert.equal(res.headers.get("x-api-key"), null);
    assert.equal(res.headers.get("set-cookie"), null);
    assert.equal(res.headers.get("www-authenticate"), null);
    assert.equal(res.headers.get("x-ratelimit-remaining-requests"), "41");
  }
  assert.equal(ok.status, 200);
  assert.equal(err.status, 401);
});
