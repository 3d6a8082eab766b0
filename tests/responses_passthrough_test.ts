/**
 * `POST /v1/responses` passed through to providers that declare
 * `responses_path` (issue #15): the body goes upstream as the client sent it,
 * the Responses answer or event stream comes back untouched, usage is read
 * from Responses-shaped bodies and events into the stats, failover works as
 * for any request, and encrypted reasoning only ever reaches the account that
 * minted it. Real server, real SQLite file, loopback Deno.serve upstreams.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, postWithKey, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { NATIVE_USAGE, startResponsesUpstream } from "./_helpers/responses_upstream.ts";

type Obj = Record<string, unknown>;

function nativeToml(url: string, accounts: string[], id = "nativeoai"): string {
  const lines = [
    `[providers.${id}]`,
    `id = "${id}"`,
    `base_url = "${url}"`,
    `protocols = ["openai"]`,
    `responses_path = "/responses"`,
  ];
  for (const name of accounts) {
    lines.push(`[[providers.${id}.accounts]]`, `name = "${name}"`, `api_key = "sk-${name}"`);
  }
  return lines.join("\n") + "\n";
}

function chatToml(url: string): string {
  return [
    `[providers.chatoai]`,
    `id = "chatoai"`,
    `base_url = "${url}"`,
    `protocols = ["openai"]`,
    `[[providers.chatoai.accounts]]`,
    `name = "chat-1"`,
    `api_key = "sk-chat-1"`,
  ].join("\n") + "\n";
}

function postResponses(origin: string, body: Obj, headers: Record<string, string> = {}) {
  return postWithKey(origin, "/v1/responses", body, headers);
}

const ROW_SQL = `SELECT r.*, a.name AS account FROM requests r
  LEFT JOIN accounts a ON a.id = r.account_id ORDER BY r.started_at, r.id`;

/** The stats row of a request that reported NATIVE_USAGE. */
function assertNativeUsage(row: Obj): void {
  const cached = NATIVE_USAGE.input_tokens_details.cached_tokens;
  assert.equal(row.input_tokens, NATIVE_USAGE.input_tokens - cached);
  assert.equal(row.cache_read_tokens, cached);
  assert.equal(row.output_tokens, NATIVE_USAGE.output_tokens);
  assert.equal(row.reasoning_tokens, NATIVE_USAGE.output_tokens_details.reasoning_tokens);
}

/** SSE text as `{event, data}` pairs. */
function events(text: string): { event: string; data: Obj }[] {
  return text.split("\n\n").filter((b) => b.trim() !== "").map((block) => {
    const event = /^event: (.*)$/m.exec(block)?.[1] ?? "";
    const data = JSON.parse(/^data: (.*)$/m.exec(block)![1]) as Obj;
    return { event, data };
  });
}

Deno.test("non-streamed: the client's body reaches responses_path as sent, the Response comes back whole, usage in the stats", async () => {
  await using tmp = await withTmpDir();
  await using up = await startResponsesUpstream(["gpt-native"]);
  await using pool = await startEggPool({ dir: tmp.path, toml: nativeToml(up.url, ["nat-1"]) });
  const body = {
    model: "gpt-native",
    instructions: "Be brief.",
    input: [
      { role: "user", content: [{ type: "input_text", text: "hello native" }] },
    ],
    tools: [{ type: "web_search" }], // a hosted tool the chat translation would drop
    store: false,
  };
  const res = await postResponses(pool.origin, body);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-proxy-transcode-warnings"), null);
  const out = await res.json() as Obj;
  assert.equal(out.id, "resp_mock1");
  assert.equal(out.object, "response");
  assert.deepEqual(out.usage, NATIVE_USAGE);
  const text = ((out.output as Obj[])[0].content as Obj[])[0].text;
  assert.equal(text, "native: hello native");

  assert.equal(up.seen.length, 1);
  assert.equal(up.seen[0].path, "/v1/responses");
  assert.equal(up.seen[0].key, "sk-nat-1");
  assert.deepEqual(up.seen[0].body, body);

  const [row] = pool.query(ROW_SQL);
  assert.equal(row.status, "completed");
  assert.equal(row.status_code, 200);
  assert.equal(row.streamed, 0);
  assert.equal(row.account, "nat-1");
  assert.equal(row.upstream_protocol, "openai");
  assertNativeUsage(row);
  // Recorded as a /v1/responses request that lost nothing on its way (migration 0007's table).
  assert.deepEqual(
    pool.query("SELECT client_surface, dropped_fields FROM request_transcodes").map((r) => ({
      ...r,
    })),
    [{ client_surface: "responses", dropped_fields: 0 }],
  );
});

Deno.test("streamed through the OpenAI SDK: the upstream's events arrive as sent, usage from response.completed in the stats", async () => {
  await using tmp = await withTmpDir();
  await using up = await startResponsesUpstream(["gpt-native"]);
  await using pool = await startEggPool({ dir: tmp.path, toml: nativeToml(up.url, ["nat-1"]) });
  const client = new OpenAI({ baseURL: `${pool.origin}/v1`, apiKey: LOCAL_KEY, maxRetries: 0 });
  const stream = client.responses.stream({
    model: "gpt-native",
    input: "stream natively please",
    store: false,
  });
  const types: string[] = [];
  let deltas = "";
  for await (const ev of stream) {
    types.push(ev.type);
    if (ev.type === "response.output_text.delta") deltas += ev.delta;
  }
  const final = await stream.finalResponse();
  assert.equal(deltas, "native: stream natively please");
  assert.equal(final.id, "resp_mock1", "the upstream's own response, not a translation");
  assert.equal(final.output_text, deltas);
  assert.equal(final.usage!.input_tokens_details.cached_tokens, 8);
  assert.equal(types[0], "response.created");
  assert.equal(types.at(-1), "response.completed");
  assert.ok(types.filter((t) => t === "response.output_text.delta").length > 3);
  assert.equal((up.seen[0].body as Obj).stream, true);
  assert.equal((up.seen[0].body as Obj).stream_options, undefined, "no usage flag injected");

  const [row] = pool.query(ROW_SQL);
  assert.equal(row.status, "completed");
  assert.equal(row.streamed, 1);
  assert.equal(row.account, "nat-1");
  assertNativeUsage(row);
});

Deno.test("prefer_native: with a chat provider for the same model, every request passes through", async () => {
  await using tmp = await withTmpDir();
  await using up = await startResponsesUpstream(["shared-model"]);
  await using chat = await startMockUpstream({ models: ["shared-model"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: nativeToml(up.url, ["nat-1"]) + chatToml(chat.url),
  });
  for (let i = 0; i < 4; i++) {
    const res = await postResponses(pool.origin, {
      model: "shared-model",
      input: `turn ${i}`,
      store: false,
    });
    assert.equal(res.status, 200);
    const out = await res.json() as Obj;
    assert.match(String(out.id), /^resp_mock/);
  }
  assert.equal(up.seen.length, 4);
  assert.equal(chat.requests.filter((r) => r.route !== "models").length, 0);
  const rows = pool.query(ROW_SQL);
  assert.deepEqual(rows.map((r) => r.account), ["nat-1", "nat-1", "nat-1", "nat-1"]);
});

Deno.test("a stream cut mid-way ends with response.failed, never response.completed, and is an error in the stats", async () => {
  await using tmp = await withTmpDir();
  await using up = await startResponsesUpstream(["gpt-native"]);
  await using pool = await startEggPool({ dir: tmp.path, toml: nativeToml(up.url, ["nat-1"]) });
  up.dropAfterEvents = 6; // after a few text deltas
  const res = await postResponses(pool.origin, {
    model: "gpt-native",
    input: "a long answer that will be cut",
    stream: true,
    store: false,
  });
  assert.equal(res.status, 200);
  const evs = events(await res.text());
  const types = evs.map((e) => e.event);
  assert.deepEqual(types.slice(0, 3), [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
  ]);
  assert.ok(types.includes("response.output_text.delta"));
  assert.ok(!types.includes("response.completed"));
  const last = evs.at(-1)!;
  assert.equal(last.event, "response.failed");
  assert.equal(last.data.type, "response.failed");
  assert.equal(last.data.sequence_number, 6, "numbered after the upstream's last event");
  const failed = last.data.response as Obj;
  assert.equal(failed.id, "resp_mock1", "the id the stream announced");
  assert.equal(failed.status, "failed");
  assert.match(String((failed.error as Obj).message), /closed the stream before it was complete/);

  const [row] = pool.query(ROW_SQL);
  assert.equal(row.status, "error");
  assert.equal(row.error_class, "stream_truncated");
  assert.equal(row.streamed, 1);
});

Deno.test("response.failed from the provider reaches the client as sent, no failover, an error with its usage in the stats", async () => {
  await using tmp = await withTmpDir();
  await using up = await startResponsesUpstream(["gpt-native"]);
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: nativeToml(up.url, ["nat-a", "nat-b"]),
  });
  up.endFailed = true;
  const res = await postResponses(pool.origin, {
    model: "gpt-native",
    input: "this one fails late",
    stream: true,
    store: false,
  });
  assert.equal(res.status, 200);
  const evs = events(await res.text());
  const failed = evs.filter((e) => e.event === "response.failed");
  assert.equal(failed.length, 1, "the provider's event only, none of EggPool's");
  assert.equal(evs.at(-1)!.event, "response.failed");
  assert.deepEqual((failed[0].data.response as Obj).error, {
    code: "server_error",
    message: "The model crashed",
  });
  assert.equal(up.seen.length, 1, "no failover once output went out");
  const [row] = pool.query(ROW_SQL);
  assert.equal(row.status, "error");
  assert.equal(row.error_class, "stream_response_failed");
  assert.match(String(row.error_message), /failed \(server_error\): The model crashed/);
  assertNativeUsage(row);
});

Deno.test("failover: a 429 on the responses account moves the request to a chat account, translated", async () => {
  await using tmp = await withTmpDir();
  await using up = await startResponsesUpstream(["shared-model"]);
  await using chat = await startMockUpstream({ models: ["shared-model"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: nativeToml(up.url, ["nat-1"]) + chatToml(chat.url),
  });
  up.limited.add("sk-nat-1");
  const res = await postResponses(pool.origin, {
    model: "shared-model",
    include: ["reasoning.encrypted_content"],
    input: [
      { role: "user", content: "first" },
      { type: "reasoning", id: "rs_old", summary: [], encrypted_content: "enc:sk-nat-1:1" },
      { role: "assistant", content: [{ type: "output_text", text: "ok" }] },
      { role: "user", content: "second" },
    ],
    store: false,
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-proxy-attempt-count"), "2");
  const out = await res.json() as Obj;
  assert.equal(out.object, "response");
  assert.equal(out.status, "completed");
  const text = ((out.output as Obj[]).find((o) => o.type === "message")!.content as Obj[])[0].text;
  assert.equal(text, "echo: second");
  assert.equal(up.seen.length, 1, "the responses account was tried once");
  const [chatSeen] = chat.requests.filter((r) => r.route !== "models");
  assert.equal(chatSeen.route, "chat_completions");
  assert.ok(
    !JSON.stringify(chatSeen.body).includes("enc:"),
    "encrypted reasoning never reaches a translated target",
  );

  const [row] = pool.query(ROW_SQL);
  assert.equal(row.status, "completed");
  assert.equal(row.account, "chat-1");
  assert.equal(row.attempt_count, 2);
  const attempts = pool.query(
    `SELECT t.status_code, t.retry_category, a.name FROM request_attempts t
     JOIN accounts a ON a.id = t.account_id ORDER BY t.attempt_number`,
  );
  assert.deepEqual(attempts.map((a) => [a.name, a.status_code]), [
    ["nat-1", 429],
    ["chat-1", 200],
  ]);
});

Deno.test("encrypted reasoning: kept for the account that minted it, stripped on failover to another account", async () => {
  await using tmp = await withTmpDir();
  await using up = await startResponsesUpstream(["gpt-native"]);
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: nativeToml(up.url, ["nat-a", "nat-b"]),
  });
  const session = { "x-eggpool-session": "conversation-1" };
  const turn = (input: unknown[], stream = false) =>
    postResponses(pool.origin, {
      model: "gpt-native",
      include: ["reasoning.encrypted_content"],
      input,
      stream,
      store: false,
    }, session);
  const history: unknown[] = [{ role: "user", content: "turn one" }];

  // Turn 1 (streamed): the answer carries reasoning minted by the account that served it.
  const r1 = await turn(history, true);
  assert.equal(r1.status, 200);
  const done = events(await r1.text()).find((e) => e.event === "response.completed")!;
  const out1 = (done.data.response as Obj).output as Obj[];
  const reasoning1 = out1.find((o) => o.type === "reasoning")!;
  const first = up.seen[0].key;
  assert.equal(reasoning1.encrypted_content, `${"enc:"}${first}:1`);
  history.push(...out1, { role: "user", content: "turn two" });

  // Turn 2: same conversation, same account: the reasoning goes back with it.
  const r2 = await turn(history);
  assert.equal(r2.status, 200);
  assert.equal(r2.headers.get("x-proxy-transcode-warnings"), null);
  const out2 = (await r2.json() as Obj).output as Obj[];
  assert.equal(up.seen[1].key, first);
  const sent2 = up.seen[1].body.input as Obj[];
  assert.deepEqual(sent2.filter((i) => i.type === "reasoning"), [reasoning1]);
  history.push(...out2, { role: "user", content: "turn three" });

  // Turn 3: that account is rate-limited; the other one gets the turn without foreign reasoning.
  up.limited.add(first);
  const r3 = await turn(history);
  assert.equal(r3.status, 200, await r3.clone().text());
  const out3 = await r3.json() as Obj;
  assert.equal(out3.status, "completed");
  const third = up.seen[3];
  assert.notEqual(third.key, first);
  const sent3 = third.body.input as Obj[];
  assert.equal(sent3.filter((i) => i.type === "reasoning").length, 0);
  assert.equal(sent3.length, (history as Obj[]).filter((i) => i.type !== "reasoning").length);
  assert.match(
    r3.headers.get("x-proxy-transcode-warnings") ?? "",
    /input\[1\] \(encrypted reasoning of another account\), input\[4\]/,
  );

  const rows = pool.query(ROW_SQL);
  assert.deepEqual(rows.map((r) => r.status), ["completed", "completed", "completed"]);
  assert.equal(rows[2].attempt_count, 2);
});

Deno.test('loss_policy = "reject": a body translation would cut passes through, and never falls back to translation', async () => {
  await using tmp = await withTmpDir();
  await using up = await startResponsesUpstream(["shared-model"]);
  await using chat = await startMockUpstream({ models: ["shared-model", "chat-only"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: '[transcoder]\nloss_policy = "reject"\n' + nativeToml(up.url, ["nat-1"]) +
      chatToml(chat.url),
  });
  const lossy = (model: string) => ({
    model,
    input: "search the web",
    tools: [{ type: "web_search" }],
    store: false,
  });
  const ok = await postResponses(pool.origin, lossy("shared-model"));
  assert.equal(ok.status, 200);
  assert.equal((await ok.json() as Obj).id, "resp_mock1");
  assert.deepEqual(up.seen[0].body.tools, [{ type: "web_search" }]);

  // The pass-through account is limited: the chat account would drop web_search, so it is not tried.
  up.limited.add("sk-nat-1");
  const limited = await postResponses(pool.origin, lossy("shared-model"));
  assert.equal(limited.status, 429);
  assert.equal(((await limited.json() as Obj).error as Obj).code, "rate_limit_exceeded");

  // A model only a chat account serves: the translation's loss is a 400 naming the field.
  const refused = await postResponses(pool.origin, lossy("chat-only"));
  assert.equal(refused.status, 400);
  const err = (await refused.json() as Obj).error as Obj;
  assert.equal(err.param, "tools[0].type=web_search");
  assert.match(String(err.message), /web_search/);
  assert.equal(chat.requests.filter((r) => r.route !== "models").length, 0);
  const rows = pool.query(ROW_SQL);
  assert.deepEqual(rows.map((r) => r.status), ["completed", "error", "client_error"]);
});
