/**
 * `[providers.<id>] stream_completion_policy` (spec 02 §9, 04 §4): a stream
 * that carried its usage but ended without `[DONE]` is a failure under
 * "strict" and accepted under "compatible". Until issue #12's key audit the
 * key was accepted and never reached the relay.
 */

import assert from "node:assert/strict";
import { LOCAL_KEY, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const CHUNKS = [
  { choices: [{ index: 0, delta: { role: "assistant", content: "Hello" } }] },
  { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
  { choices: [], usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 } },
];

/** An OpenAI-shaped upstream whose streams end cleanly but never send `[DONE]`. */
function startUpstream(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    if (new URL(req.url).pathname.endsWith("/models")) {
      return Response.json({ object: "list", data: [{ id: "m", object: "model" }] });
    }
    const body = CHUNKS.map((c) =>
      `data: ${JSON.stringify({ id: "x", object: "chat.completion.chunk", model: "m", ...c })}\n\n`
    ).join("");
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
}

function provider(id: string, url: string, policy: string): string {
  return [
    `[providers.${id}]`,
    `id = "${id}"`,
    `base_url = "${url}"`,
    `stream_completion_policy = "${policy}"`,
    `[[providers.${id}.accounts]]`,
    `name = "${id}-1"`,
    `api_key = "sk-${id}-account-key"`,
    "",
  ].join("\n");
}

Deno.test("stream_completion_policy decides whether a stream without [DONE] succeeds", async () => {
  await using tmp = await withTmpDir();
  const upstream = startUpstream();
  try {
    const url = `http://127.0.0.1:${upstream.addr.port}/v1`;
    await using pool = await startEggPool({
      dir: tmp.path,
      toml: provider("strictp", url, "strict") + provider("compatp", url, "compatible"),
    });
    const ask = async (model: string) => {
      const res = await fetch(`${pool.origin}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${LOCAL_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({
          model,
          stream: true,
          stream_options: { include_usage: true },
          messages: [{ role: "user", content: "hi" }],
        }),
      });
      assert.equal(res.status, 200);
      return await res.text();
    };
    const compatible = await ask("m/compatp");
    assert.match(compatible, /"content":"Hello"/);
    assert.doesNotMatch(compatible, /"error"/, "accepted: no error frame appended");
    const strict = await ask("m/strictp");
    assert.match(strict, /"content":"Hello"/);
    assert.match(strict, /data: \{"error":\{/, "strict: the stream ends with an error event");

    const rows = pool.query(
      "SELECT provider_id, status, error_class, input_tokens, output_tokens FROM requests " +
        "ORDER BY provider_id",
    );
    assert.deepEqual(rows.map((r) => [r.provider_id, r.status, r.input_tokens, r.output_tokens]), [
      ["compatp", "completed", 7, 2],
      ["strictp", "error", 7, 2],
    ]);
    assert.equal(rows[1].error_class, "stream_truncated");
  } finally {
    await upstream.shutdown();
  }
});
