/**
 * `GET /metrics` through a real server: mixed traffic to a mock upstream,
 * then the exposition's values checked against the stats database, the key
 * gate, `[metrics] enabled = false`, and `promtool check metrics` on the live
 * output when promtool is installed (`.ci/run` installs Debian's prometheus).
 */
import assert from "node:assert/strict";
import { ANY_KEY, startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, mockProvidersToml, postChat, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { escapeLabelValue, ExpositionWriter } from "../src/metrics/text_format.ts";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the text format's sample lines (label values unescaped). */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
    for (const l of (m[2] ?? "").matchAll(re)) {
      labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    }
    const v = m[3] === "+Inf" ? Infinity : m[3] === "-Inf" ? -Infinity : Number(m[3]);
    out.push({ name: m[1], labels, value: v });
  }
  return out;
}

/** Sum of `name`'s samples whose labels include every pair of `where`. */
function sum(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0);
}

function postMessages(origin: string, body: unknown): Promise<Response> {
  return fetch(`${origin}/v1/messages`, {
    method: "POST",
    headers: {
      "x-api-key": LOCAL_KEY,
      "anthropic-version": "2023-06-01",
      "content-type": "application/json",
    },
    body: JSON.stringify(body),
  });
}

/** Fetches `/metrics` with the local key, another key, or (null) none. */
async function scrape(origin: string, key: string | null = LOCAL_KEY): Promise<Response> {
  return await fetch(`${origin}/metrics`, {
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
  });
}

async function promtoolCheck(text: string): Promise<{ code: number; output: string } | undefined> {
  let child;
  try {
    child = new Deno.Command("promtool", {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const r = await child.output();
  const dec = new TextDecoder();
  return { code: r.code, output: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

const MSG = [{ role: "user", content: "hello metrics" }];

Deno.test("/metrics counts mixed traffic like the stats database and passes promtool", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"], reasoningTokens: 3 });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url, 2) });

  for (let i = 0; i < 3; i++) {
    const r = await postChat(pool, { model: "mock-small", messages: MSG });
    assert.equal(r.status, 200);
    await r.body?.cancel();
  }
  for (let i = 0; i < 2; i++) {
    const r = await postChat(pool, { model: "mock-small", messages: MSG, stream: true });
    assert.equal(r.status, 200);
    await r.text();
  }
  const ant = await postMessages(pool.origin, {
    model: "mock-small",
    max_tokens: 16,
    messages: MSG,
  });
  assert.equal(ant.status, 200);
  await ant.body?.cancel();
  // The first account answers 500 once; the request fails over to the second.
  mock.script.set(ANY_KEY, { status: 500, times: 1 });
  const failover = await postChat(pool, { model: "mock-small", messages: MSG });
  assert.equal(failover.status, 200);
  await failover.body?.cancel();
  // A model nobody serves: its label is folded, never the client's string.
  const unknown = await postChat(pool, { model: 'typo"\nmodel', messages: MSG });
  assert.equal(unknown.status, 404);
  await unknown.body?.cancel();

  const res = await scrape(pool.origin);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const s = parse(text);

  assert.equal(sum(s, "eggpool_requests_total"), 8);
  assert.equal(
    sum(s, "eggpool_requests_total", {
      protocol: "openai",
      outcome: "completed",
      model: "mock-small",
    }),
    6,
  );
  assert.equal(
    sum(s, "eggpool_requests_total", { protocol: "anthropic", provider: "mockant" }),
    1,
  );
  assert.equal(
    sum(s, "eggpool_requests_total", {
      outcome: "client_error",
      model: "other",
      provider: "none",
      account: "none",
    }),
    1,
  );
  assert.ok(!text.includes("typo"), "an unknown model's name never becomes a label");
  assert.ok(!/request_id|req_/.test(text), "no request id in any label");
  assert.equal(sum(s, "eggpool_attempts_total", { outcome: "server_error" }), 1);
  assert.equal(sum(s, "eggpool_attempts_total", { outcome: "success" }), 7);
  assert.equal(sum(s, "eggpool_attempts_total", { provider: "mockoai" }), 7);

  // Tokens and cost equal what the stats database recorded.
  const [db] = pool.query(
    `SELECT total(input_tokens) AS input, total(output_tokens) AS output,
       total(cache_read_tokens) AS cache_read, total(cache_write_tokens) AS cache_write,
       total(reasoning_tokens) AS reasoning, total(cost_microdollars) AS cost, count(*) AS n
     FROM requests`,
  );
  assert.equal(db.n, 8);
  for (const kind of ["input", "output", "cache_read", "cache_write", "reasoning"]) {
    assert.equal(sum(s, "eggpool_tokens_total", { kind }), db[kind], `tokens of kind ${kind}`);
  }
  assert.ok(sum(s, "eggpool_tokens_total", { kind: "output" }) > 0);
  assert.ok(sum(s, "eggpool_tokens_total", { kind: "reasoning" }) >= 6);
  assert.equal(sum(s, "eggpool_cost_usd_total"), Number(db.cost) / 1_000_000);

  // Histograms: every request has a duration; the two completed streams have a TTFT.
  assert.equal(sum(s, "eggpool_request_duration_seconds_count"), 8);
  assert.equal(
    sum(s, "eggpool_request_duration_seconds_bucket", { le: "+Inf" }),
    sum(s, "eggpool_request_duration_seconds_count"),
  );
  assert.equal(sum(s, "eggpool_time_to_first_token_seconds_count"), 2);
  assert.equal(sum(s, "eggpool_time_to_first_token_seconds_count", { provider: "mockoai" }), 2);
  assert.ok(sum(s, "eggpool_time_to_first_token_seconds_sum") > 0);

  // Gauges read at scrape time.
  assert.equal(sum(s, "eggpool_requests_in_flight"), 0);
  assert.equal(sum(s, "eggpool_account_in_flight"), 0);
  assert.equal(sum(s, "eggpool_account_backoffs", { reason: "upstream_server_error" }), 1);
  assert.equal(sum(s, "eggpool_account_backoffs", { reason: "rate_limited" }), 0);
  // One health state per account: the one that failed over is cooling down.
  assert.equal(sum(s, "eggpool_account_health"), 4);
  assert.equal(sum(s, "eggpool_account_health", { state: "cooldown_active" }), 1);
  assert.equal(sum(s, "eggpool_account_health", { state: "healthy" }), 3);
  assert.equal(s.filter((x) => x.name === "eggpool_account_circuit_open").length, 4);
  // 6 requests ended on an openai account, against 2 500 per account (weight 1).
  const util = sum(s, "eggpool_account_window_utilization_ratio", {
    provider: "mockoai",
    window: "5h",
    dimension: "requests",
  });
  assert.ok(Math.abs(util - 6 / 2_500) < 1e-12, `5h request utilization ${util}`);
  assert.equal(sum(s, "eggpool_stats_write_queue_depth") >= 0, true);
  assert.ok(sum(s, "process_resident_memory_bytes") > 10_000_000);
  assert.equal(s.filter((x) => x.name === "eggpool_event_loop_lag_seconds").length, 1);

  const check = await promtoolCheck(text);
  if (check === undefined) {
    console.log("promtool not found: skipping `promtool check metrics` (.ci/run installs it)");
  } else {
    assert.equal(check.code, 0, `promtool check metrics failed:\n${check.output}`);
    assert.equal(check.output.trim(), "", `promtool reported problems:\n${check.output}`);
  }
});

Deno.test("/metrics always needs the local key, even with a public dashboard", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream();
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: `[dashboard]\npublic = true\n${mockProvidersToml(mock.url)}`,
  });
  const none = await scrape(pool.origin, null);
  assert.equal(none.status, 401);
  assert.deepEqual(await none.json(), { error: "Invalid or missing API key" });
  const wrong = await scrape(pool.origin, "ep_wrong_key_0123456789abcdef");
  assert.equal(wrong.status, 401);
  await wrong.body?.cancel();
  const right = await scrape(pool.origin);
  assert.equal(right.status, 200);
  assert.match(await right.text(), /^# HELP eggpool_build_info /m);
});

Deno.test("[metrics] enabled = false leaves /metrics out", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream();
  await using pool = await startEggPool({
    dir: tmp.path,
    metrics: "enabled = false",
    toml: mockProvidersToml(mock.url),
  });
  const r = await postChat(pool, { model: "mock-small", messages: MSG });
  assert.equal(r.status, 200);
  await r.body?.cancel();
  const res = await scrape(pool.origin);
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), { error: "No route for GET /metrics" });
  // The request itself was still recorded.
  assert.equal(pool.query("SELECT count(*) AS n FROM requests")[0].n, 1);
});

Deno.test("the text format escapes label values and spells special numbers", () => {
  assert.equal(escapeLabelValue('a"b\\c\nd'), 'a\\"b\\\\c\\nd');
  const text = new ExpositionWriter()
    .family("x_total", "counter", "Help with a \\ and\na newline.")
    .sample("x_total", 1, { name: 'q"uote' })
    .family("y", "gauge", "Special values.")
    .sample("y", Infinity)
    .sample("y", Number.NaN, { k: "v" })
    .text();
  assert.equal(
    text,
    [
      "# HELP x_total Help with a \\\\ and\\na newline.",
      "# TYPE x_total counter",
      'x_total{name="q\\"uote"} 1',
      "# HELP y Special values.",
      "# TYPE y gauge",
      "y +Inf",
      'y{k="v"} NaN',
      "",
    ].join("\n"),
  );
  const h = new ExpositionWriter()
    .family("h_seconds", "histogram", "A histogram.")
    .histogram("h_seconds", [0.1, 1], [2, 0, 3], 7.5, { p: "a" })
    .text();
  assert.match(h, /h_seconds_bucket\{p="a",le="0.1"\} 2\n/);
  assert.match(h, /h_seconds_bucket\{p="a",le="1"\} 2\n/);
  assert.match(h, /h_seconds_bucket\{p="a",le="\+Inf"\} 5\n/);
  assert.match(h, /h_seconds_sum\{p="a"\} 7.5\nh_seconds_count\{p="a"\} 5\n/);
});
