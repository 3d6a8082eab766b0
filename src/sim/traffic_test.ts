import assert from "node:assert/strict";
import { startMockUpstream } from "./mock_upstream.ts";
import type { RecordedRequest } from "./mock_upstream.ts";
import { startTraffic } from "./traffic.ts";

type Json = Record<string, unknown>;

function messagesOf(request: RecordedRequest): Json[] {
  return (request.body as { messages: Json[] }).messages;
}

function sessionOf(request: RecordedRequest): string {
  return request.headers["x-session-id"] ?? request.headers["x-claude-code-session-id"];
}

/** True when some block of `content` is a tool result. */
function hasToolResult(message: Json): boolean {
  return message.role === "tool" ||
    (Array.isArray(message.content) &&
      message.content.some((b: Json) => b.type === "tool_result"));
}

Deno.test("startTraffic() holds multi-turn conversations in both protocols, answers tool calls, and stops", async () => {
  // The agents talk straight to the simulator here; in the demo they talk to EggPool.
  await using mock = await startMockUpstream({
    models: ["m-openai", "m-anthropic"],
    cache: "prefix",
  });
  const traffic = startTraffic({
    origin: mock.origin,
    localKey: "demo-key",
    level: "busy",
    models: { openai: ["m-openai"], anthropic: ["m-anthropic"] },
  });
  const enough = () => {
    const done = mock.requests.filter((r) => r.outcome === "completed");
    const routes = new Set(done.map((r) => r.route));
    const toolTurns = done.filter((r) => hasToolResult(messagesOf(r).at(-1)!));
    return routes.size === 2 && toolTurns.length >= 2 && done.length >= 40;
  };
  for (let i = 0; i < 600 && !enough(); i++) await new Promise((r) => setTimeout(r, 50));
  await traffic.stop();
  assert.ok(enough(), `only ${mock.requests.length} requests`);
  const { counts } = traffic;
  assert.equal(counts.sent, mock.requests.length);
  assert.equal(counts.ok + counts.failed, counts.sent);
  assert.equal(counts.failed, 0);
  const settled = mock.requests.length;
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(mock.requests.length, settled, "no request after stop()");

  const bySession = Map.groupBy(mock.requests, sessionOf);
  assert.ok(bySession.size >= 6, `${bySession.size} conversations`);
  for (const [session, turns] of bySession) {
    assert.ok(session, "every request names its conversation");
    // Each turn resends the history before it, unchanged, plus what happened since.
    for (let i = 1; i < turns.length; i++) {
      const before = messagesOf(turns[i - 1]);
      const now = messagesOf(turns[i]);
      assert.deepEqual(now.slice(0, before.length), before);
      assert.ok(now.length >= before.length + 2, "the reply and the next turn were added");
    }
    const protocols = new Set(turns.map((t) => t.route));
    assert.equal(protocols.size, 1, "a conversation keeps its protocol");
  }
  const anthropic = mock.requests.filter((r) => r.route === "messages");
  const metadata = JSON.parse(
    (anthropic[0].body as { metadata: { user_id: string } }).metadata.user_id,
  );
  assert.equal(metadata.session_id, anthropic[0].headers["x-claude-code-session-id"]);
  const openai = mock.requests.filter((r) => r.route === "chat_completions");
  assert.equal(openai[0].headers["x-session-affinity"], openai[0].headers["x-session-id"]);
  assert.equal(openai[0].headers["authorization"], "Bearer demo-key");
  assert.equal(anthropic[0].headers["x-api-key"], "demo-key");

  // A tool result answers the call the previous reply made, by its id.
  for (const request of mock.requests) {
    const messages = messagesOf(request);
    const last = messages.at(-1)!;
    if (!hasToolResult(last)) continue;
    const call = messages.at(-2)!;
    if (request.route === "chat_completions") {
      const [toolCall] = call.tool_calls as { id: string }[];
      assert.equal(last.tool_call_id, toolCall.id);
    } else {
      const use = (call.content as Json[]).find((b) => b.type === "tool_use")!;
      assert.equal((last.content as Json[])[0].tool_use_id, use.id);
    }
  }
  assert.ok(mock.requests.some((r) => r.stream) && mock.requests.some((r) => !r.stream));
  assert.ok(
    mock.requests.some((r) => (r.usage?.cacheReadTokens ?? 0) > 0),
    "the prompt cache hits",
  );
});

Deno.test("startTraffic() with level none sends nothing", async () => {
  await using mock = await startMockUpstream();
  const traffic = startTraffic({
    origin: mock.origin,
    localKey: "k",
    level: "none",
    models: { openai: ["mock-small"], anthropic: ["mock-small"] },
  });
  await traffic.stop();
  assert.deepEqual(traffic.counts, { sent: 0, ok: 0, failed: 0 });
  assert.equal(mock.requests.length, 0);
});
