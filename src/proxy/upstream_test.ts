import assert from "node:assert/strict";
import { clientHeaders, joinUrl, upstreamHeaders } from "./upstream.ts";
import type { UpstreamTarget } from "./upstream.ts";

function target(overrides: Partial<UpstreamTarget> = {}): UpstreamTarget {
  return {
    url: "http://127.0.0.1:1/v1/chat/completions",
    protocol: "openai",
    auth: { mode: "bearer", header: "Authorization", scheme: "Bearer" },
    key: "sk-upstream-1",
    headers: [],
    ...overrides,
  };
}

Deno.test("joinUrl() puts exactly one slash between base and path", () => {
  assert.equal(
    joinUrl("https://a.example/v1/", "/chat/completions"),
    "https://a.example/v1/chat/completions",
  );
  assert.equal(joinUrl("https://a.example/v1", "messages"), "https://a.example/v1/messages");
});

Deno.test("upstreamHeaders() drops client credentials, hop-by-hop and our own headers", () => {
  const client = new Headers({
    authorization: "Bearer local-key-123",
    "x-api-key": "local-key-123",
    connection: "keep-alive, x-drop-me",
    "x-drop-me": "1",
    "keep-alive": "timeout=5",
    host: "eggpool.lan",
    "content-length": "12",
    "accept-encoding": "gzip",
    "x-eggpool-session": "abc",
    "anthropic-beta": "tools-2024",
    "user-agent": "sdk/1.0",
  });
  const out = upstreamHeaders(client, target());
  assert.equal(out["authorization"], "Bearer sk-upstream-1");
  for (
    const gone of [
      "x-api-key",
      "connection",
      "x-drop-me",
      "keep-alive",
      "host",
      "content-length",
      "accept-encoding",
      "x-eggpool-session",
    ]
  ) {
    assert.equal(gone in out, false, `${gone} must not reach the upstream`);
  }
  assert.equal(out["anthropic-beta"], "tools-2024");
  assert.equal(out["user-agent"], "sdk/1.0");
});

Deno.test("upstreamHeaders() writes api_key auth and a default anthropic-version", () => {
  const out = upstreamHeaders(
    new Headers(),
    target({
      protocol: "anthropic",
      auth: { mode: "api_key", header: "x-api-key", scheme: "Bearer" },
    }),
  );
  assert.equal(out["x-api-key"], "sk-upstream-1");
  assert.equal(out["anthropic-version"], "2023-06-01");
  assert.equal("authorization" in out, false);
});

Deno.test("upstreamHeaders() lets the auth header win over a same-named static header", () => {
  const out = upstreamHeaders(
    new Headers({ "anthropic-version": "2024-01-01" }),
    target({
      protocol: "anthropic",
      headers: [["Authorization", "static"], ["X-Title", "EggPool"]],
    }),
  );
  assert.equal(out["authorization"], "Bearer sk-upstream-1");
  assert.equal(out["x-title"], "EggPool");
  assert.equal(out["anthropic-version"], "2024-01-01");
});

Deno.test("clientHeaders() removes framing and hop-by-hop headers from the upstream response", () => {
  const out = clientHeaders(
    new Headers({
      "content-type": "text/event-stream",
      "content-length": "99",
      "content-encoding": "gzip",
      "transfer-encoding": "chunked",
      "x-request-id": "req_1",
    }),
  );
  assert.deepEqual(Object.keys(out).sort(), ["content-type", "x-request-id"]);
});

Deno.test("clientHeaders() keeps repeated headers and lets our headers replace the upstream's", () => {
  const upstream = new Headers([
    ["content-type", "application/json"],
    ["link", "<a>"],
    ["link", "<b>"],
    ["x-proxy-request-id", "spoofed"],
    ["constructor", "c"],
    ["__proto__", "p"],
  ]);
  const out = new Headers(clientHeaders(upstream, { "x-proxy-request-id": "ours" }));
  assert.equal(out.get("link"), "<a>, <b>");
  assert.equal(out.get("x-proxy-request-id"), "ours");
  assert.equal(out.get("content-type"), "application/json");
  assert.equal(out.get("constructor"), "c");
  assert.equal(out.get("__proto__"), "p");
  const single = clientHeaders(new Headers({ "x-a": "1" }), { "x-proxy-attempt-count": "2" });
  assert.deepEqual({ ...single }, { "x-a": "1", "x-proxy-attempt-count": "2" });
});
