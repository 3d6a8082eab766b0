/**
 * Backoffs through a real SQLite file with the real migrations: write-through
 * on failure, restore after a restart, success clearing, and auth rows that
 * lift when the account's credential fingerprint changes.
 */
import assert from "node:assert/strict";
import { openDatabase } from "../src/storage/db.ts";
import type { Db } from "../src/storage/db.ts";
import { migrate } from "../src/storage/migrate.ts";
import { MIGRATIONS } from "../src/storage/migrations.ts";
import { syncConfigRows } from "../src/storage/accounts_repo.ts";
import { createBackoffStore, loadBackoffs } from "../src/storage/backoffs_repo.ts";
import { BackoffBook } from "../src/accounts/backoffs.ts";
import { AccountPool } from "../src/accounts/pool.ts";
import { credentialFingerprint } from "../src/accounts/fingerprint.ts";
import { fakeAccount, fakeClock, fakeProvider } from "../src/accounts/_fixtures.ts";
import { classifyResponse } from "../src/routing/classify.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

function open(path: string, keys: Record<string, string>, now: number): Db {
  const db = openDatabase({ path });
  migrate(db, MIGRATIONS, { clock: () => now });
  syncConfigRows(
    db,
    [{ id: "p", baseUrl: "https://p.example/v1", protocols: ["openai"] }],
    Object.entries(keys).map(([name, key]) => ({
      name,
      providerId: "p",
      apiKeyEnv: "",
      enabled: true,
      weight: 1,
      credentialFingerprint: credentialFingerprint(key),
    })),
    now,
  );
  return db;
}

function failure(status: number, now: number, headers: Record<string, string> = {}) {
  return classifyResponse(status, new Headers(headers), undefined, {
    now,
    quotaCooldownMs: 300_000,
  });
}

function rows(db: Db): Record<string, unknown>[] {
  return db.stmt(
    `SELECT a.name, b.model_id, b.reason, b.backoff_until, b.consecutive_failures, b.status_code,
       b.credential_fingerprint
     FROM account_backoffs b JOIN accounts a ON a.id = b.account_id ORDER BY a.name, b.reason`,
  ).all();
}

const KEYS = { a: "sk-aaaa-1", b: "sk-bbbb-1", c: "sk-cccc-1" };

Deno.test("backoffs persist on failure and survive a restart", async () => {
  await using tmp = await withTmpDir();
  const path = `${tmp.path}/usage.sqlite3`;
  const clock = fakeClock();
  {
    using db = open(path, KEYS, clock.now);
    const book = new BackoffBook({ clock, store: createBackoffStore(db) });
    book.record("a", failure(429, clock.now, { "retry-after": "120" }));
    book.record("a", failure(429, clock.now, { "retry-after": "120" }));
    book.record("b", failure(401, clock.now));
    book.record("c", {
      class: "model_unavailable",
      retryable: true,
      cooldownMs: 300_000,
      errorClass: "upstream_model_unavailable",
      statusCode: 404,
    }, "gone-model");
    assert.deepEqual(rows(db).map((r) => [r.name, r.reason, r.consecutive_failures]), [
      ["a", "rate_limited", 2],
      ["b", "authentication_failed", 1],
      ["c", "model_unavailable", 1],
    ]);
    assert.equal(rows(db)[1].credential_fingerprint, credentialFingerprint(KEYS.b));
  }
  clock.advance(60_000);
  using db = open(path, KEYS, clock.now);
  const loaded = loadBackoffs(db, clock.now);
  assert.equal(loaded.clearedAuth, 0);
  const book = new BackoffBook({ clock, store: createBackoffStore(db) });
  book.restore(loaded.entries);
  const prov = fakeProvider("p");
  const pool = new AccountPool(
    Object.keys(KEYS).map((n) => fakeAccount(n, prov)),
    { clock, backoffs: book },
  );
  const d = pool.decide({ providerIds: new Set(["p"]), modelId: "gone-model" });
  assert.deepEqual(d.exclusions.map((e) => [e.account, e.reason, e.untilMs]), [
    ["a", "rate_limited", clock.now + 60_000],
    ["b", "auth_failed", undefined],
    ["c", "model_unavailable", clock.now + 240_000],
  ]);
  // The model row rests only that model: c still serves others.
  assert.equal(pool.decide({ providerIds: new Set(["p"]), modelId: "other" }).chosen, "c");
  pool.clearOnSuccess("a", "gone-model");
  pool.clearOnSuccess("b", "gone-model");
  assert.deepEqual(rows(db).map((r) => [r.name, r.reason]), [
    ["b", "authentication_failed"],
    ["c", "model_unavailable"],
  ]);
});

Deno.test("loadBackoffs() deletes expired rows and keeps active ones", async () => {
  await using tmp = await withTmpDir();
  const path = `${tmp.path}/usage.sqlite3`;
  const clock = fakeClock();
  {
    using db = open(path, KEYS, clock.now);
    const book = new BackoffBook({ clock, store: createBackoffStore(db) });
    book.record("a", failure(503, clock.now)); // 20 s
    book.record("c", failure(402, clock.now)); // 300 s
  }
  clock.advance(21_000);
  using db = open(path, KEYS, clock.now);
  const loaded = loadBackoffs(db, clock.now);
  assert.equal(loaded.deleted, 1);
  assert.deepEqual(loaded.entries.map((e) => [e.accountName, e.reason]), [[
    "c",
    "quota_exhausted",
  ]]);
  assert.deepEqual(rows(db).map((r) => r.name), ["c"]);
});

Deno.test("an auth backoff is cleared at startup when the account's key changed", async () => {
  await using tmp = await withTmpDir();
  const path = `${tmp.path}/usage.sqlite3`;
  const clock = fakeClock();
  {
    using db = open(path, KEYS, clock.now);
    const book = new BackoffBook({ clock, store: createBackoffStore(db) });
    book.record("a", failure(401, clock.now));
    book.record("b", failure(401, clock.now));
  }
  // Restart with a new key for a only.
  using db = open(path, { ...KEYS, a: "sk-aaaa-2" }, clock.now + 1);
  const loaded = loadBackoffs(db, clock.now + 1);
  assert.equal(loaded.clearedAuth, 1);
  assert.deepEqual(loaded.entries.map((e) => e.accountName), ["b"]);
  assert.deepEqual(rows(db).map((r) => r.name), ["b"]);
});

Deno.test("backoffs of a disabled account are kept in the file but not restored", async () => {
  await using tmp = await withTmpDir();
  const path = `${tmp.path}/usage.sqlite3`;
  const clock = fakeClock();
  {
    using db = open(path, KEYS, clock.now);
    new BackoffBook({ clock, store: createBackoffStore(db) }).record("a", failure(402, clock.now));
  }
  using db = open(path, { b: KEYS.b }, clock.now);
  assert.deepEqual(loadBackoffs(db, clock.now).entries, []);
  assert.equal(rows(db).length, 1);
});
