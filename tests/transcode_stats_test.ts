/**
 * Protocol reach in the stats (issue #15): real requests through the real
 * server on all three endpoints, to one Anthropic-only and one OpenAI-only
 * mock upstream, then `/api/stats/transcoding`, the recent-requests views and
 * the Routing page read back what each one did: its endpoint, the protocol
 * its upstream spoke, how it ended and which fields the translation dropped
 * (the same ones its `x-proxy-transcode-warnings` header named).
 */
import assert from "node:assert/strict";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, oneProtocolToml, postJson, startEggPool } from "./_helpers/eggpool.ts";
import type { TestEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

function providers(antUrl: string, oaiUrl: string): string {
  return oneProtocolToml(antUrl, "anthropic") + oneProtocolToml(oaiUrl, "openai");
}

async function post(pool: TestEggPool, path: string, body: Record<string, unknown>) {
  const res = await postJson(pool.origin, path, body);
  const text = await res.text();
  return { status: res.status, warnings: res.headers.get("x-proxy-transcode-warnings"), text };
}

async function get(pool: TestEggPool, path: string) {
  const res = await fetch(pool.origin + path, {
    headers: { authorization: `Bearer ${LOCAL_KEY}` },
  });
  return { status: res.status, text: await res.text() };
}

const HI = [{ role: "user", content: "hi" }];
/** A client's own unknown field, which the translation drops and the page must show as text. */
const EVIL_FIELD = "<img src=x onerror=alert(1)>";

Deno.test("each request records its endpoint, upstream protocol and dropped fields; the API and the Routing page sum them per direction", async () => {
  await using tmp = await withTmpDir();
  await using ant = await startMockUpstream({ models: ["ant-model"] });
  await using oai = await startMockUpstream({ models: ["oai-model"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: providers(ant.url, oai.url) });

  // Chat Completions → Anthropic: two fields dropped, then a stream dropping one,
  // then one the upstream refuses (nothing dropped).
  const c1 = await post(pool, "/v1/chat/completions", {
    model: "ant-model",
    messages: HI,
    top_p: 0.5,
    seed: 7,
  });
  assert.equal(c1.status, 200);
  assert.equal(c1.warnings, "top_p (unsupported), seed (unsupported)");
  const c2 = await post(pool, "/v1/chat/completions", {
    model: "ant-model",
    stream: true,
    messages: HI,
    top_p: 0.9,
    [EVIL_FIELD]: 1,
  });
  assert.equal(c2.status, 200);
  assert.ok(c2.text.includes("[DONE]"));
  assert.equal(c2.warnings, `top_p (unsupported), ${EVIL_FIELD} (unsupported)`);
  ant.script.set("sk-onlyant", {
    status: 400,
    errorType: "invalid_request_error",
    message: "messages: bad turn",
    times: 1,
  });
  const c3 = await post(pool, "/v1/chat/completions", { model: "ant-model", messages: HI });
  assert.equal(c3.status, 400);
  assert.equal(c3.warnings, null);

  // Messages → OpenAI: top_k dropped.
  const m1 = await post(pool, "/v1/messages", {
    model: "oai-model",
    max_tokens: 64,
    messages: HI,
    top_k: 5,
  });
  assert.equal(m1.status, 200);
  assert.equal(m1.warnings, "top_k (unsupported)");

  // Native both ways: nothing dropped, no header.
  for (let i = 0; i < 2; i++) {
    const n = await post(pool, "/v1/chat/completions", { model: "oai-model", messages: HI });
    assert.equal(n.status, 200);
    assert.equal(n.warnings, null);
  }
  const nm = await post(pool, "/v1/messages", { model: "ant-model", max_tokens: 64, messages: HI });
  assert.equal(nm.status, 200);

  // Responses → OpenAI (translated to Chat Completions): a hosted tool dropped.
  const r1 = await post(pool, "/v1/responses", {
    model: "oai-model",
    input: "hi",
    tools: [{ type: "web_search" }],
  });
  assert.equal(r1.status, 200);
  assert.equal(r1.warnings, "tools[0].type=web_search (unsupported)");
  // Responses → Anthropic: the same drop, then Chat → Messages on the way.
  const r2 = await post(pool, "/v1/responses", {
    model: "ant-model",
    input: "hi",
    tools: [{ type: "web_search" }],
  });
  assert.equal(r2.status, 200);
  assert.equal(r2.warnings, "tools[0].type=web_search (unsupported)");
  // Refused before routing: recorded as a responses request, in no direction.
  const r3 = await post(pool, "/v1/responses", {
    model: "oai-model",
    input: "hi",
    previous_response_id: "resp_1",
  });
  assert.equal(r3.status, 400);

  const api = await get(pool, "/api/stats/transcoding?period=1h");
  assert.equal(api.status, 200);
  const body = JSON.parse(api.text);
  assert.equal(body.period, "1h");
  assert.deepEqual(body.totals, {
    requests: 9,
    native: 3,
    transcoded: 6,
    requests_with_drops: 5,
    dropped_fields: 7,
  });
  const direction = (surface: string, upstream: string) =>
    body.directions.find((d: { client_surface: string; upstream_protocol: string }) =>
      d.client_surface === surface && d.upstream_protocol === upstream
    );
  assert.equal(body.directions.length, 6);
  assert.deepEqual(direction("chat_completions", "anthropic"), {
    client_protocol: "openai",
    client_surface: "chat_completions",
    upstream_protocol: "anthropic",
    transcoded: true,
    requests: 3,
    successful: 2,
    errors: 0,
    client_errors: 1,
    cancelled: 0,
    requests_with_drops: 2,
    dropped_fields: 4,
    top_dropped_fields: [
      { field: "top_p", requests: 2 },
      { field: EVIL_FIELD, requests: 1 },
      { field: "seed", requests: 1 },
    ],
  });
  assert.deepEqual(direction("messages", "openai"), {
    client_protocol: "anthropic",
    client_surface: "messages",
    upstream_protocol: "openai",
    transcoded: true,
    requests: 1,
    successful: 1,
    errors: 0,
    client_errors: 0,
    cancelled: 0,
    requests_with_drops: 1,
    dropped_fields: 1,
    top_dropped_fields: [{ field: "top_k", requests: 1 }],
  });
  for (const upstream of ["openai", "anthropic"]) {
    const d = direction("responses", upstream);
    assert.equal(d.client_protocol, "openai");
    assert.equal(d.transcoded, true);
    assert.equal(d.requests, 1);
    assert.equal(d.successful, 1);
    assert.equal(d.dropped_fields, 1);
    assert.deepEqual(d.top_dropped_fields, [{ field: "tools[].type=web_search", requests: 1 }]);
  }
  const nativeChat = direction("chat_completions", "openai");
  assert.equal(nativeChat.transcoded, false);
  assert.equal(nativeChat.requests, 2);
  assert.equal(nativeChat.dropped_fields, 0);
  assert.deepEqual(nativeChat.top_dropped_fields, []);
  assert.equal(direction("messages", "anthropic").requests, 1);
  assert.equal(direction("messages", "anthropic").transcoded, false);
  // Transcoded directions come first.
  assert.deepEqual(body.directions.map((d: { transcoded: boolean }) => d.transcoded), [
    true,
    true,
    true,
    true,
    false,
    false,
  ]);

  // The recent requests say which endpoint each came in on.
  const recent = JSON.parse((await get(pool, "/api/stats/recent-requests?limit=20")).text);
  assert.equal(recent.requests.length, 10);
  const surfaces = recent.requests.map((r: { client_surface: string }) => r.client_surface);
  assert.deepEqual(surfaces.filter((s: string) => s === "responses").length, 3);
  const refused = recent.requests[0];
  assert.equal(refused.client_surface, "responses");
  assert.equal(refused.client_protocol, "openai");
  assert.equal(refused.upstream_protocol, null);
  assert.equal(refused.transcoded, false);
  assert.equal(refused.status, "client_error");
  const r2row = recent.requests[1];
  const detail = JSON.parse((await get(pool, `/api/stats/recent/${r2row.id}`)).text);
  assert.equal(detail.request.client_surface, "responses");
  assert.equal(detail.request.upstream_protocol, "anthropic");
  assert.equal(detail.request.transcoded, true);
  assert.equal(detail.request.dropped_fields, 1);
  assert.deepEqual(detail.request.dropped_field_names, ["tools[].type=web_search"]);
  const nativeRow = recent.requests.find((
    r: { client_surface: string; upstream_protocol: string },
  ) => r.client_surface === "messages" && r.upstream_protocol === "anthropic");
  assert.equal(nativeRow.transcoded, false);
  assert.equal(nativeRow.dropped_fields, 0);
  assert.deepEqual(nativeRow.dropped_field_names, []);

  // So does the Traces page's view of one request.
  const trace = await get(pool, `/traces/${r2row.id}`);
  assert.equal(trace.status, 200);
  assert.match(
    trace.text,
    /Endpoint<\/dt>\s*<dd data-fact="Endpoint">responses \(transcoded\)<\/dd>/,
  );
  assert.match(
    trace.text,
    /Dropped fields<\/dt>\s*<dd data-fact="Dropped fields">1: tools\[\]\.type=web_search<\/dd>/,
  );

  // The Routing page shows the same figures, the client's field name as text.
  const page = await get(pool, "/routing?period=1h");
  assert.equal(page.status, 200);
  const section = page.text.slice(page.text.indexOf('id="transcoding"'));
  assert.match(section, /<h2[^>]*>Transcoding<\/h2>/);
  assert.match(
    section,
    /data-row="chat_completions→anthropic"[^]*?data-col="Requests"[^>]*>3<[^]*?data-col="Dropped fields"[^>]*>4</,
  );
  assert.match(section, /data-row="responses→anthropic"/);
  assert.match(section, /&lt;img src=x onerror=alert\(1\)>/);
  assert.ok(!page.text.includes(EVIL_FIELD));
});

Deno.test("/api/stats/transcoding refuses a bad period by name and answers an empty one with no directions", async () => {
  await using tmp = await withTmpDir();
  await using ant = await startMockUpstream({ models: ["ant-model"] });
  await using oai = await startMockUpstream({ models: ["oai-model"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: providers(ant.url, oai.url) });
  const bad = await get(pool, "/api/stats/transcoding?period=yesterday");
  assert.equal(bad.status, 400);
  assert.equal(JSON.parse(bad.text).param, "period");
  const unauthorized = await fetch(`${pool.origin}/api/stats/transcoding`);
  assert.equal(unauthorized.status, 401);
  await unauthorized.body?.cancel();
  const empty = JSON.parse((await get(pool, "/api/stats/transcoding")).text);
  assert.deepEqual(empty, {
    period: "24h",
    totals: { requests: 0, native: 0, transcoded: 0, requests_with_drops: 0, dropped_fields: 0 },
    directions: [],
  });
  const page = await get(pool, "/routing");
  assert.match(page.text, /No request reached an upstream in this period/);
});
