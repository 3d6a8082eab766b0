import assert from "node:assert/strict";
import { BackoffBook, backoffDelayMs, backoffReasonOf } from "./backoffs.ts";
import type { BackoffEntry, BackoffStore } from "./backoffs.ts";
import { fakeClock } from "./_fixtures.ts";
import {
  classifyResponse,
  classifyTransport,
  MAX_COOLDOWN_MS,
  parseRetryAfter,
} from "../routing/classify.ts";
import type { Failure } from "../routing/classify.ts";

function recordingStore() {
  const calls: string[] = [];
  const store: BackoffStore = {
    save: (e) => calls.push(`save ${e.accountName} ${e.modelId ?? "*"} ${e.reason}`),
    clearOnSuccess: (a, m) => calls.push(`clear ${a} ${m}`),
    clearAuth: (a) => calls.push(`auth ${a}`),
  };
  return { store, calls };
}

function http(status: number, headers: Record<string, string>, now: number): Failure {
  return classifyResponse(status, new Headers(headers), undefined, {
    now,
    quotaCooldownMs: 120_000,
  });
}

Deno.test("parseRetryAfter() reads delay seconds and HTTP dates", () => {
  const now = Date.parse("2025-06-01T12:00:00Z");
  assert.equal(parseRetryAfter("7", now), 7_000);
  assert.equal(parseRetryAfter(" 1.5 ", now), 1_500);
  assert.equal(parseRetryAfter("Sun, 01 Jun 2025 12:00:42 GMT", now), 42_000);
  assert.equal(parseRetryAfter("Sun, 01 Jun 2025 11:00:00 GMT", now), 0);
  assert.equal(parseRetryAfter("soon", now), undefined);
  assert.equal(parseRetryAfter("-3", now), undefined);
  assert.equal(parseRetryAfter(null, now), undefined);
});

Deno.test("BackoffBook.record() honours Retry-After seconds and dates on a 429", () => {
  const clock = fakeClock(Date.parse("2025-06-01T12:00:00Z"));
  const book = new BackoffBook({ clock });
  const e = book.record("a", http(429, { "retry-after": "12" }, clock.now))!;
  assert.equal(e.reason, "rate_limited");
  assert.equal(e.untilMs, clock.now + 12_000);
  assert.equal(e.statusCode, 429);
  const d = book.record(
    "b",
    http(429, { "retry-after": "Sun, 01 Jun 2025 12:01:30 GMT" }, clock.now),
  )!;
  assert.equal(d.untilMs, clock.now + 90_000);
  const none = book.record("c", http(429, {}, clock.now))!;
  assert.equal(none.untilMs, clock.now + 60_000);
  const huge = book.record("d", http(429, { "retry-after": "99999" }, clock.now))!;
  assert.equal(huge.untilMs, clock.now + MAX_COOLDOWN_MS);
});

Deno.test("BackoffBook.record() cools quota exhaustion for the configured time", () => {
  const clock = fakeClock();
  const book = new BackoffBook({ clock });
  const e = book.record("a", http(402, {}, clock.now))!;
  assert.equal(e.reason, "quota_exhausted");
  assert.equal(e.untilMs, clock.now + 120_000);
});

Deno.test("BackoffBook.record() parks auth failures with no deadline", () => {
  const clock = fakeClock();
  const book = new BackoffBook({ clock });
  const e = book.record("a", http(401, {}, clock.now))!;
  assert.equal(e.reason, "authentication_failed");
  assert.equal(e.untilMs, undefined);
  clock.advance(365 * 86_400_000);
  assert.equal(book.blocking("a", "m", clock.now)?.reason, "authentication_failed");
});

Deno.test("BackoffBook.record() backs transient failures off exponentially up to 30 min", () => {
  const clock = fakeClock();
  const book = new BackoffBook({ clock });
  const delays: number[] = [];
  for (let i = 0; i < 9; i++) {
    const e = book.record("a", classifyTransport(false))!;
    delays.push(e.untilMs! - clock.now);
    assert.equal(e.consecutiveFailures, i + 1);
    clock.advance(e.untilMs! - clock.now);
  }
  assert.deepEqual(delays, [
    30_000,
    60_000,
    120_000,
    240_000,
    480_000,
    960_000,
    1_800_000,
    1_800_000,
    1_800_000,
  ]);
  // Long after the last deadline the streak starts over.
  clock.advance(MAX_COOLDOWN_MS + 1);
  assert.equal(book.record("a", classifyTransport(false))!.consecutiveFailures, 1);
});

Deno.test("BackoffBook.clearOnSuccess() clears temporary rows but never auth", () => {
  const clock = fakeClock();
  const { store, calls } = recordingStore();
  const book = new BackoffBook({ clock, store });
  book.record("a", http(503, {}, clock.now));
  book.record("a", http(404, {}, clock.now));
  book.record("a", {
    class: "model_unavailable",
    retryable: true,
    cooldownMs: 300_000,
    errorClass: "x",
  }, "m1");
  book.record("b", http(401, {}, clock.now));
  book.clearOnSuccess("a", "m1");
  assert.equal(book.blocking("a", "m1", clock.now), undefined);
  book.clearOnSuccess("b", "m1");
  assert.equal(book.blocking("b", "m1", clock.now)?.reason, "authentication_failed");
  // Nothing to clear: no write.
  book.clearOnSuccess("a", "m1");
  assert.deepEqual(calls, [
    "save a * upstream_server_error",
    "save a m1 model_unavailable",
    "save b * authentication_failed",
    "clear a m1",
  ]);
  book.clearAuth("b");
  assert.equal(book.blocking("b", "m1", clock.now), undefined);
  assert.equal(calls.at(-1), "auth b");
});

Deno.test("BackoffBook.restore() skips expired rows and clamps overlong deadlines", () => {
  const clock = fakeClock();
  const book = new BackoffBook({ clock });
  const row = (patch: Partial<BackoffEntry>): BackoffEntry => ({
    accountName: "a",
    reason: "rate_limited",
    untilMs: clock.now + 1_000,
    consecutiveFailures: 1,
    firstFailureAt: clock.now,
    lastFailureAt: clock.now,
    ...patch,
  });
  book.restore([
    row({ accountName: "expired", untilMs: clock.now - 1 }),
    row({ accountName: "long", untilMs: clock.now + 10 * MAX_COOLDOWN_MS }),
    row({ accountName: "wide-model", reason: "model_unavailable" }),
    row({ accountName: "auth", reason: "authentication_failed", untilMs: undefined }),
  ]);
  assert.deepEqual(book.list().map((e) => [e.accountName, e.untilMs]), [
    ["auth", undefined],
    ["long", clock.now + MAX_COOLDOWN_MS],
  ]);
});

Deno.test("BackoffBook keeps routing when the store fails, and saves the changes once it heals", () => {
  const clock = fakeClock();
  const logs: string[] = [];
  const saved: string[] = [];
  let full = true;
  const book = new BackoffBook({
    clock,
    log: (m) => logs.push(m),
    store: {
      save(e) {
        if (full) throw new Error("disk full");
        saved.push(`save ${e.accountName} ${e.reason}`);
      },
      clearOnSuccess(a) {
        if (full) throw new Error("disk full");
        saved.push(`clear ${a}`);
      },
      clearAuth() {},
    },
  });
  book.record("a", http(500, {}, clock.now));
  book.record("b", http(429, {}, clock.now));
  assert.equal(book.blocking("a", "m", clock.now)?.reason, "upstream_server_error");
  // One line for the failing streak, not one per write.
  assert.deepEqual(logs, ["Cannot save a backoff: disk full; keeping it to retry"]);
  assert.equal(book.retryUnsaved(), 2);
  full = false;
  assert.equal(book.retryUnsaved(), 0);
  assert.deepEqual(saved, ["save a upstream_server_error", "save b rate_limited"]);
  assert.deepEqual(logs.slice(1), ["Backoff changes saved again"]);
  assert.equal(book.retryUnsaved(), 0);
  assert.equal(saved.length, 2, "nothing is written twice");
});

Deno.test("backoffReasonOf() and backoffDelayMs() follow spec 03 §9", () => {
  assert.equal(backoffReasonOf("client_error"), undefined);
  assert.equal(backoffReasonOf("overloaded"), "upstream_server_error");
  assert.equal(backoffReasonOf("timeout"), "connect_timeout");
  assert.equal(backoffDelayMs("authentication_failed", { baseMs: 5, consecutive: 1 }), undefined);
  assert.equal(backoffDelayMs("rate_limited", { baseMs: 10_000, consecutive: 5 }), 10_000);
  assert.equal(backoffDelayMs("upstream_server_error", { baseMs: 20_000, consecutive: 3 }), 80_000);
});
