/**
 * `[model_capabilities]` through the whole proxy: per-model thinking and
 * image input for the transcoder, the thinking gate that leaves out a
 * provider whose model does not think, the capability error when none is
 * left, and `check-config` on bad and inert capability keys.
 */
import assert from "node:assert/strict";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import type { MockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, postJson, startEggPool } from "./_helpers/eggpool.ts";
import { runEggpool } from "./_helpers/cli.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

/** One provider on the mock speaking only `protocol`, with extra lines in its table. */
function provider(id: string, protocol: "openai" | "anthropic", url: string, extra = ""): string {
  return [
    `[providers.${id}]`,
    `id = "${id}"`,
    `base_url = "${url}"`,
    `protocols = ["${protocol}"]`,
    ...(protocol === "anthropic"
      ? [`[providers.${id}.auth]`, 'mode = "api_key"', 'header = "x-api-key"']
      : []),
    `[[providers.${id}.accounts]]`,
    `name = "${id}-1"`,
    `api_key = "sk-${id}"`,
    extra,
  ].join("\n") + "\n";
}

function sent(mock: MockUpstream): { key: string; body: Record<string, unknown> }[] {
  return mock.requests.filter((r) => r.route !== "models").map((r) => ({
    key: r.key ?? "",
    body: r.body as Record<string, unknown>,
  }));
}

const THINKING_MESSAGES = {
  model: "mock-small",
  max_tokens: 64,
  messages: [{ role: "user", content: "think first" }],
  thinking: { type: "enabled", budget_tokens: 20_000 },
};

Deno.test("a model that states it thinks gets the thinking the features table keeps off", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  const caps = [
    '[providers.oai.model_capabilities."mock-small".thinking]',
    'status = "supported"',
    'supported_efforts = ["low", "medium"]',
  ].join("\n");
  {
    // No capability: [transcoder.features] thinking is off, so the thinking is dropped and said so.
    await using pool = await startEggPool({
      dir: `${tmp.path}`,
      toml: provider("oai", "openai", mock.url),
    });
    const res = await postJson(pool.origin, "/v1/messages", THINKING_MESSAGES);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-proxy-transcode-warnings"), "thinking (feature_disabled)");
    await res.body?.cancel();
    assert.equal(sent(mock)[0].body.reasoning_effort, undefined);
  }
  mock.reset();
  await Deno.remove(`${tmp.path}/usage.sqlite3`);
  {
    await using pool = await startEggPool({
      dir: `${tmp.path}`,
      toml: provider("oai", "openai", mock.url, caps),
    });
    const res = await postJson(pool.origin, "/v1/messages", THINKING_MESSAGES);
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get("x-proxy-transcode-warnings"), null);
    await res.body?.cancel();
    // 20 000 tokens is a "high" budget; the model takes low and medium only, so the nearest.
    assert.equal(sent(mock)[0].body.reasoning_effort, "medium");
  }
});

Deno.test("a model's own effort budgets and bounds set Anthropic's budget_tokens", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  const caps = [
    '[model_capabilities."mock-small".thinking]',
    'status = "supported"',
    "budget_tokens_max = 8000",
    "effort_to_budget_tokens = { low = 2000, high = 30000 }",
  ].join("\n");
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: provider("ant", "anthropic", mock.url) + caps + "\n",
  });
  for (const effort of ["high", "low", "medium"]) {
    const res = await postJson(pool.origin, "/v1/chat/completions", {
      model: "mock-small",
      messages: [{ role: "user", content: "hi" }],
      reasoning_effort: effort,
    });
    assert.equal(res.status, 200, effort);
    await res.body?.cancel();
  }
  const budgets = sent(mock).map((r) =>
    (r.body.thinking as { budget_tokens: number }).budget_tokens
  );
  // high: 30 000 capped at 8 000; low: the model's 2 000; medium: the global default 4 096.
  assert.deepEqual(budgets, [8000, 2000, 4096]);
});

Deno.test("the thinking gate skips a provider whose model does not think, and says so when none can", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  const toml = provider(
    "oai",
    "openai",
    mock.url,
    '[providers.oai.model_capabilities."mock-small".thinking]\nstatus = "unsupported"',
  ) + provider("ant", "anthropic", mock.url);
  {
    await using pool = await startEggPool({ dir: tmp.path, toml });
    const plain = await postJson(pool.origin, "/v1/chat/completions", {
      model: "mock-small",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(plain.status, 200);
    await plain.body?.cancel();
    const thinking = await postJson(pool.origin, "/v1/chat/completions", {
      model: "mock-small",
      messages: [{ role: "user", content: "hi" }],
      reasoning_effort: "low",
    });
    assert.equal(thinking.status, 200);
    await thinking.body?.cancel();
    // Native when no thinking is asked; the thinking goes to the model that can.
    assert.deepEqual(sent(mock).map((r) => r.key), ["sk-oai", "sk-ant"]);
  }
  mock.reset();
  await Deno.remove(`${tmp.path}/usage.sqlite3`);
  const none = toml + '[model_capabilities."mock-small".thinking]\nstatus = "unsupported"\n';
  await using pool = await startEggPool({ dir: tmp.path, toml: none });
  const openai = await postJson(pool.origin, "/v1/chat/completions", {
    model: "mock-small",
    messages: [{ role: "user", content: "hi" }],
    reasoning_effort: "high",
  });
  assert.equal(openai.status, 400);
  assert.deepEqual(await openai.json(), {
    error: {
      message: "Model 'mock-small' is available, but no eligible provider is known to support " +
        "requested thinking controls (thinking capability status: unsupported).",
      type: "capability_error",
      code: "400",
      capability: "thinking",
      requested_fields: ["reasoning_effort"],
      model: "mock-small",
    },
  });
  const anthropic = await postJson(pool.origin, "/v1/messages", THINKING_MESSAGES);
  assert.equal(anthropic.status, 400);
  const body = await anthropic.json();
  assert.equal(body.type, "error");
  assert.equal(body.error.type, "capability_error");
  assert.deepEqual(body.error.requested_fields, ["thinking"]);
  assert.equal(sent(mock).length, 0, "no upstream was asked");
  const summary = await (await fetch(`${pool.origin}/api/stats/summary?period=1h`, {
    headers: { authorization: `Bearer ${LOCAL_KEY}` },
  })).json();
  assert.equal(summary.total_requests, 2, "both refusals are recorded");
});

Deno.test("image input stated per model carries the sources it names and drops the others", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  const caps =
    '[model_capabilities."mock-small".multimodal]\nimage_input = { base64 = true, url = false }';
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: provider("ant", "anthropic", mock.url) + caps + "\n",
  });
  const res = await postJson(pool.origin, "/v1/chat/completions", {
    model: "mock-small",
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "two pictures" },
        { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
        { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
      ],
    }],
  });
  assert.equal(res.status, 200);
  assert.equal(
    res.headers.get("x-proxy-transcode-warnings"),
    "messages[0].content[2] (feature_disabled)",
  );
  await res.body?.cancel();
  const messages = sent(mock)[0].body.messages as { content: unknown[] }[];
  assert.deepEqual(messages[0].content, [
    { type: "text", text: "two pictures" },
    { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
  ]);
});

Deno.test("check-config names a wrong capability value and the capability keys that do nothing", async () => {
  await using tmp = await withTmpDir();
  const base = '[server]\nhost = "127.0.0.1"\n' +
    provider("oai", "openai", "http://127.0.0.1:9/v1");
  const env = { HOME: tmp.path, XDG_CONFIG_HOME: `${tmp.path}/xdg` };
  await Deno.writeTextFile(
    `${tmp.path}/bad.toml`,
    base + '[model_capabilities."m1".thinking]\nstatus = "maybe"\nsupported_efforts = ["huge"]\n',
  );
  const bad = await runEggpool(["--config", `${tmp.path}/bad.toml`, "check-config"], {
    cwd: tmp.path,
    env,
  });
  assert.equal(bad.code, 1);
  const out = bad.stdout + bad.stderr;
  assert.match(
    out,
    /model_capabilities\.m1\.thinking\.status.*must be one of "supported", "unsupported", "unknown"/,
  );
  await Deno.writeTextFile(
    `${tmp.path}/inert.toml`,
    base + '[providers.oai.model_capabilities."m1"]\ntranscoding = { strict = true }\n' +
      '[providers.oai.model_capabilities."m1".thinking]\nstatus = "supported"\n',
  );
  const inert = await runEggpool(["--config", `${tmp.path}/inert.toml`, "check-config"], {
    cwd: tmp.path,
    env,
  });
  assert.equal(inert.code, 0, inert.stdout + inert.stderr);
  assert.match(
    inert.stdout + inert.stderr,
    /providers\.oai\.model_capabilities\.m1\.transcoding.*accepted but has no effect/,
  );
});

Deno.test("/v1/models shows what the capabilities state, per provider and collapsed", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small", "mock-large"] });
  const toml = provider(
    "oai",
    "openai",
    mock.url,
    '[providers.oai.model_capabilities."mock-small".thinking]\nstatus = "unsupported"',
  ) + provider("ant", "anthropic", mock.url) +
    '[model_capabilities."mock-small".thinking]\nstatus = "supported"\n' +
    'supported_efforts = ["high"]\n' +
    '[model_capabilities."mock-small".multimodal]\nimage_input = true\n';
  const listed = async (pool: { origin: string }) =>
    (await (await fetch(`${pool.origin}/v1/models`, {
      headers: { authorization: `Bearer ${LOCAL_KEY}` },
    })).json()).data as { id: string; eggpool?: { capabilities?: unknown } }[];
  {
    await using pool = await startEggPool({ dir: tmp.path, toml });
    const byId = Object.fromEntries(
      (await listed(pool)).map((m) => [m.id, m.eggpool?.capabilities]),
    );
    const images = { base64: true, url: true };
    assert.deepEqual(byId["mock-small/oai"], {
      thinking: { status: "unsupported" },
      image_input: images,
    });
    assert.deepEqual(byId["mock-small/ant"], {
      thinking: { status: "supported", supported_efforts: ["high"] },
      image_input: images,
    });
    assert.equal(byId["mock-large/ant"], undefined, "nothing stated, nothing shown");
  }
  await Deno.remove(`${tmp.path}/usage.sqlite3`);
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: "[models]\ncollapse_models = true\n" + toml,
  });
  const small = (await listed(pool)).find((m) => m.id === "mock-small");
  assert.deepEqual(small?.eggpool?.capabilities, {
    thinking: { status: "supported", supported_efforts: ["high"] },
    image_input: { base64: true, url: true },
  });
});
