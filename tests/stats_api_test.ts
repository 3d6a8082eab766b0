/**
 * The stats JSON API (issue #14) against a real SQLite file seeded through the
 * recorder's repositories with known totals (tests/stats_api_fixture.ts):
 * values, period parsing, filters, and what must never be shown.
 */
import assert from "node:assert/strict";
import { getJson, KEY, SECRET_TEXT, seedDatabase, statsApp } from "./stats_api_fixture.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import type { Db } from "../src/storage/db.ts";

async function withApi(
  fn: (api: ReturnType<typeof statsApp>, db: Db) => Promise<void>,
): Promise<void> {
  await using dir = await withTmpDir();
  using db = seedDatabase(`${dir.path}/usage.sqlite3`);
  await fn(statsApp(db, { isPublic: false, key: KEY }), db);
}

Deno.test("summary: the outcome parts add up to the total, rejected requests on their own", async () => {
  await withApi(async (api) => {
    const { status, body } = await getJson(api, "/api/stats/summary?period=1h");
    assert.equal(status, 200);
    assert.equal(body.period, "1h");
    assert.equal(body.total_requests, 9);
    assert.equal(body.successful_requests, 4);
    assert.equal(body.error_requests, 1);
    assert.equal(body.rejected_requests, 2);
    assert.equal(body.client_error_requests, 0);
    assert.equal(body.cancelled_requests, 1);
    assert.equal(body.pending_requests, 1);
    const parts = ["successful", "error", "rejected", "client_error", "cancelled", "pending"]
      .reduce((s, k) => s + Number(body[`${k}_requests`]), 0);
    assert.equal(parts, body.total_requests);
    assert.equal(body.total_input_tokens, 360);
    assert.equal(body.total_output_tokens, 175);
    assert.equal(body.total_tokens, 535);
    assert.equal(body.total_cost_microdollars, 3600);
    assert.equal(body.derived_count, 3);
    assert.equal(body.estimated_count, 1);
    assert.equal(body.unknown_count, 5);
    assert.equal(body.estimated_cost_sum_microdollars, 2000);
    assert.equal(body.streamed_requests, 4);
    assert.equal(body.non_streamed_requests, 5);
    assert.equal(body.total_bytes_received, 900);
    assert.equal(body.total_bytes_emitted, 1550);
    assert.equal(body.total_providers, 1);
    // TTFT of the streamed requests: 100, 300, 200 ms.
    assert.equal(body.avg_ttft_ms, 200);
    assert.equal(body.ttft_p50_ms, 200);
    assert.equal(body.ttft_p95_ms, 300);
    assert.equal(body.ttft_p99_ms, 300);
  });
});

Deno.test("period: each form selects its rows and is echoed; bad values are a 400 naming period", async () => {
  await withApi(async (api) => {
    const total = async (period: string) => {
      const { status, body } = await getJson(api, `/api/stats/summary?period=${period}`);
      assert.equal(status, 200, period);
      return [body.period, body.total_requests];
    };
    assert.deepEqual(await total("24h"), ["24h", 11]);
    assert.deepEqual(await total("7d"), ["7d", 13]);
    assert.deepEqual(await total("30d"), ["30d", 13]);
    // Request 13 is 40 days old: 2026-05-06 12:00 UTC; date-only means 00:00 UTC.
    assert.deepEqual(await total("2026-05-06..2026-05-07"), ["custom", 1]);
    assert.deepEqual(await total("2026-05-06T13:00:00%2B02:00..2026-05-06T13:00:01Z"), [
      "custom",
      1,
    ]);
    assert.deepEqual(await total("2026-06-15T11:00:00"), ["since", 9]);
    assert.deepEqual(await total("2026-06-15T11:00:00Z"), ["since", 9]);
    const { body } = await getJson(api, "/api/stats/summary");
    assert.equal(body.period, "24h");
    for (
      const bad of [
        "2h",
        "yesterday",
        "2026-13-01",
        "2026-02-30",
        "2026-06-10..2026-06-01",
        "2027-01-01",
      ]
    ) {
      const res = await getJson(api, `/api/stats/summary?period=${encodeURIComponent(bad)}`);
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.param, "period");
      assert.match(String(res.body.error), /'period'/);
    }
  });
});

Deno.test("accounts: usage, ratios and include_disabled", async () => {
  await withApi(async (api) => {
    const { body } = await getJson(api, "/api/stats/accounts?period=1h");
    assert.equal(body.include_disabled, true);
    const rows = body.accounts as Record<string, unknown>[];
    assert.deepEqual(rows.map((a) => a.account_name), ["a1", "a2", "a3"]);
    const [a1, a2, a3] = rows;
    assert.equal(a1.request_count, 3);
    assert.equal(a1.input_tokens, 110);
    assert.equal(a1.output_tokens, 55);
    assert.equal(a1.cost_microdollars, 1100);
    assert.equal(a2.request_count, 3);
    assert.equal(a2.error_count, 1);
    assert.equal(a2.cost_microdollars, 2500);
    assert.equal(a2.estimated_cost_fraction, 0.8);
    assert.equal(a2.avg_cost_per_request, 833.3);
    assert.equal(a3.request_count, 0);
    assert.equal(a3.enabled, false);
    assert.equal(a3.cache_read_ratio, null);
    assert.equal(a3.reasoning_output_ratio, null);
    const enabledOnly = await getJson(api, "/api/stats/accounts?period=1h&include_disabled=false");
    assert.deepEqual(
      (enabledOnly.body.accounts as Record<string, unknown>[]).map((a) => a.account_name),
      ["a1", "a2"],
    );
    const bad = await getJson(api, "/api/stats/accounts?include_disabled=maybe");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.param, "include_disabled");
  });
});

Deno.test("models: only routed models, an account filter, 404 for an unknown account", async () => {
  await withApi(async (api) => {
    const { body } = await getJson(api, "/api/stats/models?period=1h");
    const models = body.models as Record<string, unknown>[];
    assert.deepEqual(models.map((m) => [m.model_id, m.request_count]), [["m1", 5], ["m2", 1]]);
    // Output tokens per second of the completed requests: m1 (50 + 100 + 20) over
    // (1.0 + 2.0 + 1.5) s, m2 5 over 0.5 s; only m1's request 2 was estimated.
    assert.deepEqual(
      models.map((m) => [m.tokens_per_second, m.estimated_cost_sum_microdollars]),
      [[37.8, 2000], [10, 0]],
    );
    assert.ok(!JSON.stringify(body).includes("nope-model"));
    const a2 = await getJson(api, "/api/stats/models?period=1h&account=a2");
    assert.equal(a2.body.account_filter, "a2");
    assert.deepEqual(
      (a2.body.models as Record<string, unknown>[]).map((m) => [m.model_id, m.request_count]),
      [["m1", 3]],
    );
    const unknown = await getJson(api, "/api/stats/models?account=ghost");
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.param, "account");
  });
});

Deno.test("timeseries and bandwidth: buckets with their sums and filters", async () => {
  await withApi(async (api) => {
    const { body } = await getJson(api, "/api/stats/timeseries?period=24h&bucket=hour");
    const series = body.series as Record<string, unknown>[];
    assert.deepEqual(series.map((s) => [s.bucket, s.request_count]), [
      ["2026-06-15 07:00:00", 2],
      ["2026-06-15 11:00:00", 9],
    ]);
    assert.equal(series[1].error_count, 1);
    assert.equal(series[1].cost_microdollars, 3600);
    assert.equal(series[0].avg_ttft_ms, 400);
    const filtered = await getJson(api, "/api/stats/timeseries?period=24h&account=a1&model=m1");
    assert.equal(filtered.body.account_filter, "a1");
    assert.equal(filtered.body.model_filter, "m1");
    assert.deepEqual(
      (filtered.body.series as Record<string, unknown>[]).map((s) => s.request_count),
      [1, 2],
    );
    const bad = await getJson(api, "/api/stats/timeseries?bucket=week");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.param, "bucket");
    const bw = await getJson(api, "/api/stats/bandwidth?period=7d");
    assert.deepEqual(bw.body.daily, [
      {
        day: "2026-06-12",
        bytes_received: 200,
        bytes_emitted: 0,
        total_tokens: 10,
        request_count: 2,
      },
      {
        day: "2026-06-15",
        bytes_received: 1100,
        bytes_emitted: 1550,
        total_tokens: 1735,
        request_count: 11,
      },
    ]);
  });
});

Deno.test("grouped timeseries: top N plus Other keep bucket totals exact; gaps are zero-padded", async () => {
  await withApi(async (api) => {
    const { status, body } = await getJson(
      api,
      "/api/timeseries/grouped?period=24h&bucket=hour&group_by=provider_model&limit=1",
    );
    assert.equal(status, 200);
    assert.equal(body.metric, "requests");
    const series = body.series as Record<string, unknown>[];
    assert.deepEqual(series.map((s) => [s.key, s.total_requests, s.is_other]), [
      ["p1:m1", 6, false],
      ["__other__", 5, true],
    ]);
    assert.equal(series[1].label, "Other");
    assert.deepEqual(body.buckets, [
      "2026-06-15 07:00:00",
      "2026-06-15 08:00:00",
      "2026-06-15 09:00:00",
      "2026-06-15 10:00:00",
      "2026-06-15 11:00:00",
    ]);
    const totals = body.bucket_totals as Record<string, unknown>[];
    assert.deepEqual(totals.map((t) => t.request_count), [2, 0, 0, 0, 9]);
    const points = body.points as Record<string, unknown>[];
    assert.equal(points.length, 10);
    for (const t of totals) {
      const sum = points.filter((p) => p.bucket === t.bucket)
        .reduce((s, p) => s + Number(p.request_count), 0);
      assert.equal(sum, t.request_count);
    }
    const gap = points.find((p) => p.bucket === "2026-06-15 09:00:00" && p.series_key === "p1:m1");
    assert.equal(gap?.request_count, 0);
    assert.equal(gap?.avg_latency_ms, null);
    const byAccount = await getJson(
      api,
      "/api/timeseries/grouped?period=24h&group_by=account&limit=25",
    );
    assert.equal(byAccount.body.bucket, "hour");
    // Equal totals rank by key: "(" sorts before letters.
    assert.deepEqual(
      (byAccount.body.series as Record<string, unknown>[]).map((s) => [s.key, s.total_requests]),
      [["a1", 4], ["(unrouted)", 3], ["a2", 3], ["a3", 1]],
    );
    const day = await getJson(api, "/api/timeseries/grouped?period=30d");
    assert.equal(day.body.bucket, "day");
    assert.equal((day.body.buckets as string[]).length, 4);
    assert.equal((day.body.buckets as string[])[0], "2026-06-12 00:00:00");
    const metric = await getJson(api, "/api/timeseries/grouped?period=24h&metric=tokens");
    assert.equal(metric.status, 200);
    assert.equal(metric.body.metric, "requests");
    const empty = await getJson(api, "/api/timeseries/grouped?period=2020-01-01..2020-01-02");
    assert.deepEqual([empty.body.series, empty.body.buckets, empty.body.points], [[], [], []]);
    for (
      const [q, param] of [["limit=0", "limit"], ["group_by=color", "group_by"], [
        "bucket=minute",
        "bucket",
      ]]
    ) {
      const bad = await getJson(api, `/api/timeseries/grouped?${q}`);
      assert.equal(bad.status, 400, q);
      assert.equal(bad.body.param, param);
    }
    const tooLong = await getJson(
      api,
      "/api/timeseries/grouped?period=2020-01-01..2026-01-01&bucket=hour",
    );
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.param, "bucket");
  });
});

Deno.test("errors, ips and latency", async () => {
  await withApi(async (api) => {
    const errors = await getJson(api, "/api/stats/errors?period=1h");
    const groups = errors.body.errors as Record<string, unknown>[];
    assert.equal(groups.length, 4);
    const rejected = groups.filter((g) => g.rejected_before_routing === 1);
    assert.deepEqual(rejected.map((g) => g.status_code).sort(), [400, 404]);
    assert.ok(groups.some((g) => g.error_class === "upstream_server_error" && g.count === 1));
    const limited = await getJson(api, "/api/stats/errors?period=1h&limit=2");
    assert.equal((limited.body.errors as unknown[]).length, 2);
    assert.equal((await getJson(api, "/api/stats/errors?limit=101")).body.param, "limit");

    const ips = await getJson(api, "/api/stats/ips?period=1h");
    assert.deepEqual(
      (ips.body.ips as Record<string, unknown>[]).map((i) => [i.client_ip, i.request_count]),
      [["10.0.0.1", 8], ["10.0.0.2", 1]],
    );

    const lat = await getJson(api, "/api/stats/latency?period=1h");
    assert.deepEqual(lat.body.provider_ttft, [{
      provider_id: "p1",
      streamed_requests: 3,
      avg_ttft_ms: 200,
      p50_ttft_ms: 200,
      p95_ttft_ms: 300,
      p99_ttft_ms: 300,
    }]);
    assert.deepEqual(lat.body.phases, {
      completed_requests: 4,
      avg_latency_ms: 1250,
      coordinator_overhead_ms: 5,
      upstream_connect_ms: null,
      upstream_wait_ms: 245,
      upstream_read_ms: 1000,
    });
  });
});

Deno.test("attempts and retries: failovers counted from attempt rows and single-attempt requests", async () => {
  await withApi(async (api) => {
    const { body } = await getJson(api, "/api/stats/attempts?period=1h");
    assert.equal(body.total_attempts, 8);
    assert.equal(body.failed_attempts, 4);
    assert.equal(body.successful_attempts, 4);
    assert.equal(body.requests_with_attempts, 6);
    assert.equal(body.retries, 2);
    assert.equal(body.retried_requests, 2);
    assert.equal(body.retry_rate, 0.3333);
    const a1 = await getJson(api, "/api/stats/attempts?period=1h&account=a1&provider=p1&model=m1");
    assert.equal(a1.body.account_filter, "a1");
    assert.equal(a1.body.provider_filter, "p1");
    // a1: request 1 (ok), 4 and 7 (429) and 9 (cancelled).
    assert.equal(a1.body.total_attempts, 4);
    assert.equal(a1.body.failed_attempts, 3);
    const r = await getJson(api, "/api/stats/retries?period=1h");
    assert.deepEqual(
      (r.body.distribution as Record<string, unknown>[]).map((
        d,
      ) => [d.retry_category, d.failed_attempts]),
      [["temporary", 2], ["never", 1], ["transient", 1]],
    );
  });
});

Deno.test("routing: distribution, selections, exclusions, skew", async () => {
  await withApi(async (api) => {
    const dist = await getJson(api, "/api/stats/routing?period=1h");
    assert.deepEqual(
      (dist.body.distribution as Record<string, unknown>[]).map((
        d,
      ) => [d.model_id, d.provider_id, d.requests]),
      [["m1", "p1", 5], ["m2", "p1", 1]],
    );
    const sel = await getJson(api, "/api/stats/routing-selections?period=1h");
    assert.deepEqual(
      (sel.body.selections as Record<string, unknown>[]).map((
        s,
      ) => [s.account_name, s.selections, s.first_choice]),
      [["a1", 5, 5], ["a2", 3, 1]],
    );
    const ex = await getJson(api, "/api/stats/routing-exclusions?period=1h");
    assert.deepEqual(
      (ex.body.exclusions as Record<string, unknown>[]).map((
        e,
      ) => [e.account_name, e.reason, e.exclusions]),
      [["a3", "disabled", 8], ["a1", "attempted", 2]],
    );
    const skew = await getJson(api, "/api/stats/routing-skew?period=1h");
    assert.equal(skew.body.total_selections, 8);
    assert.equal(skew.body.most_selected, "a1");
    assert.equal(skew.body.least_selected, "a2");
    assert.equal(skew.body.max_min_ratio, 1.67);
  });
});

Deno.test("events, operational events, pings and pending health", async () => {
  await withApi(async (api) => {
    const ev = await getJson(api, "/api/events?limit=10");
    const events = ev.body.events as Record<string, unknown>[];
    assert.deepEqual(events.map((e) => [e.account_name, e.event_type]), [["a2", "auth_failed"], [
      "a1",
      "rate_limited",
    ]]);
    assert.deepEqual(events[1].details, { status_code: 429 });
    const typed = await getJson(api, "/api/events?type_filter=rate_limited");
    assert.equal(typed.body.type, "rate_limited");
    assert.equal((typed.body.events as unknown[]).length, 1);

    const op = await getJson(api, "/api/stats/operational?period=7d");
    assert.deepEqual(
      (op.body.summary as Record<string, unknown>[]).map((s) => [s.event_type, s.count]),
      [["crash_recovery", 1], ["stale_request_finalizer", 1]],
    );
    const op24 = await getJson(api, "/api/stats/operational?period=24h&type_filter=crash_recovery");
    assert.deepEqual((op24.body.recent as Record<string, unknown>[])[0].details, {
      interrupted: 1,
    });

    const pings = await getJson(api, "/api/stats/pings?period=1h");
    assert.deepEqual(
      (pings.body.summary as Record<string, unknown>[]).map((
        s,
      ) => [s.provider_id, s.pings, s.ok, s.avg_latency_ms]),
      [["p1", 2, 1, 200], ["p2", 1, 0, null]],
    );
    assert.equal((pings.body.recent as unknown[]).length, 3);
    const p2 = await getJson(api, "/api/stats/pings?period=1h&provider=p2");
    assert.equal(p2.body.provider_filter, "p2");
    assert.equal((p2.body.recent as unknown[]).length, 1);

    const pending = await getJson(api, "/api/stats/pending-health");
    assert.deepEqual(pending.body, {
      pending_count: 2,
      oldest_pending_age_seconds: 3 * 86_400 - 60,
      stale_pending: 2,
      stale_after_seconds: 900,
    });
  });
});

Deno.test("recent requests and one request with its attempts and routing decisions", async () => {
  await withApi(async (api) => {
    const list = await getJson(api, "/api/stats/recent-requests?limit=3");
    assert.equal(list.body.include_client_ip, false);
    assert.deepEqual((list.body.requests as Record<string, unknown>[]).map((r) => r.request_id), [
      "req-9",
      "req-8",
      "req-7",
    ]);
    const done = await getJson(api, "/api/stats/recent-requests?status=completed&account=a2");
    assert.deepEqual((done.body.requests as Record<string, unknown>[]).map((r) => r.request_id), [
      "req-7",
      "req-2",
    ]);
    assert.equal(
      (await getJson(api, "/api/stats/recent-requests?status=done")).body.param,
      "status",
    );
    assert.equal((await getJson(api, "/api/stats/recent-requests?limit=500")).body.param, "limit");

    const id = (list.body.requests as Record<string, unknown>[])[2].id;
    const detail = await getJson(api, `/api/stats/recent/${id}`);
    assert.equal(detail.status, 200);
    const req = detail.body.request as Record<string, unknown>;
    assert.equal(req.request_id, "req-7");
    assert.equal(req.account_name, "a2");
    const attempts = detail.body.attempts as Record<string, unknown>[];
    assert.deepEqual(attempts.map((a) => [a.account_name, a.status_code, a.error_class]), [
      ["a1", 429, "rate_limited"],
      ["a2", 200, null],
    ]);
    const decisions = detail.body.routing_decisions as Record<string, unknown>[];
    assert.deepEqual(decisions.map((d) => d.selected_account), ["a1", "a2"]);
    const single = await getJson(api, "/api/stats/recent/1");
    assert.deepEqual(
      (single.body.attempts as Record<string, unknown>[]).map((
        a,
      ) => [a.account_name, a.first_byte_ms]),
      [["a1", 100]],
    );
    const missing = await getJson(api, "/api/stats/recent/99999");
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { error: "Request 99999 not found" });
    const bad = await getJson(api, "/api/stats/recent/abc");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.param, "request_id");
  });
});

Deno.test("pricing provenance names config prices and the generic fallback", async () => {
  {
    await using dir = await withTmpDir();
    using db = seedDatabase(`${dir.path}/usage.sqlite3`);
    const api = statsApp(db, {
      isPublic: true,
      extra: {
        price: (p, m) =>
          p === "p1" && m === "m1"
            ? { inputMicrosPerMillion: 1_000_000, outputMicrosPerMillion: 2_000_000 }
            : undefined,
      },
    });
    const { body } = await getJson(api, "/api/stats/pricing-provenance", {});
    const rows = body.snapshots as Record<string, unknown>[];
    assert.deepEqual(
      rows.map((r) => [r.provider_id, r.model_id, r.source, r.priced_category_count]),
      [
        ["p1", "m1", "config", 2],
        ["p1", "m2", "generic_default", 0],
        ["p2", "m3", "generic_default", 0],
      ],
    );
    assert.equal(rows[0].input_microdollars_per_mtok, 1_000_000);
  }
});

Deno.test("no route shows stored error text, and only /ips shows client addresses", async () => {
  await withApi(async (api) => {
    const periodic = [
      "summary",
      "accounts",
      "models",
      "timeseries",
      "errors",
      "bandwidth",
      "latency",
      "pings",
      "attempts",
      "retries",
      "routing",
      "routing-selections",
      "routing-exclusions",
      "routing-skew",
      "operational",
    ].map((name) => `/api/stats/${name}?period=30d`);
    const paths = [
      ...periodic,
      "/api/timeseries/grouped?period=30d",
      "/api/stats/pending-health",
      "/api/stats/pricing-provenance",
      "/api/stats/recent-requests?limit=200",
      "/api/events",
    ];
    for (let id = 1; id <= 14; id++) paths.push(`/api/stats/recent/${id}`);
    for (const path of paths) {
      const { status, text } = await getJson(api, path);
      assert.equal(status, 200, path);
      assert.ok(!text.includes(SECRET_TEXT), `${path} shows stored error text`);
      assert.ok(!text.includes("10.0.0."), `${path} shows a client IP`);
    }
    const ips = await getJson(api, "/api/stats/ips?period=30d");
    assert.ok(ips.text.includes("10.0.0.1"));
  });
});
