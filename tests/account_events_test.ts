/**
 * Account health through real parts (issue #14): a mock upstream that
 * answers only 429, only 500 or only 401 writes one account event per state
 * change (never one per request) and a recovery event when it serves again;
 * the Accounts page's badge, `/api/accounts/status` and `eggpool accounts
 * status` show the same live state.
 */
import assert from "node:assert/strict";
import { ANY_KEY, startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, mockProvidersToml, postChat, startEggPool } from "./_helpers/eggpool.ts";
import type { TestEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { isolatedEnv, runEggpool } from "./_helpers/cli.ts";
import { accountCells } from "./dashboard_fixtures.ts";
import { openDatabase } from "../src/storage/db.ts";
import { migrate } from "../src/storage/migrate.ts";
import { MIGRATIONS } from "../src/storage/migrations.ts";
import { syncConfigRows } from "../src/storage/accounts_repo.ts";
import { insertAccountEvent } from "../src/storage/account_events_repo.ts";
import { createBackoffStore, loadBackoffs } from "../src/storage/backoffs_repo.ts";
import { AccountPool } from "../src/accounts/pool.ts";
import { BackoffBook } from "../src/accounts/backoffs.ts";
import { fakeAccount, fakeClock, fakeProvider } from "../src/accounts/_fixtures.ts";
import { classifyResponse } from "../src/routing/classify.ts";
import { CIRCUIT_OPEN_MS } from "../src/accounts/circuit.ts";

const ACCOUNT = "mockoai-1";
const KEY = "sk-mockoai-key-1";
const MSG = [{ role: "user", content: "hello" }];

interface EventRow {
  type: string;
  details: Record<string, unknown>;
}

function events(pool: TestEggPool, account = ACCOUNT): EventRow[] {
  return pool.query(
    `SELECT e.event_type AS type, e.details_json AS details FROM account_events e
     JOIN accounts a ON a.id = e.account_id WHERE a.name = ? ORDER BY e.id`,
    account,
  ).map((r) => ({ type: String(r.type), details: JSON.parse(String(r.details)) }));
}

async function send(pool: TestEggPool, n: number, status: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    // Pinned to the OpenAI provider: a bare id may fail over to the Anthropic account (transcoding).
    const r = await postChat(pool, { model: "mock-small/mockoai", messages: MSG });
    assert.equal(r.status, status, `request ${i + 1}: ${await r.clone().text()}`);
    await r.body?.cancel();
  }
}

async function accountsPage(pool: TestEggPool): Promise<string> {
  const r = await fetch(`${pool.origin}/accounts`, {
    headers: { authorization: `Bearer ${LOCAL_KEY}` },
  });
  assert.equal(r.status, 200);
  return await r.text();
}

/** The `title`-free tooltip of the account's badge. */
function badgeTip(html: string, account: string): string {
  const row = new RegExp(`<tr[^>]*data-account="${account}"[^>]*>(.*?)</tr>`, "s").exec(html);
  assert.ok(row, `no row for ${account}`);
  const tip = /<span class="tag[^"]*"[^>]*data-tooltip="([^"]*)"/.exec(row[1]);
  assert.ok(tip, "the health cell has a badge with a tooltip");
  return tip[1];
}

async function liveHealth(pool: TestEggPool): Promise<Record<string, unknown>> {
  const r = await fetch(`${pool.origin}/api/accounts/status`, {
    headers: { authorization: `Bearer ${LOCAL_KEY}` },
  });
  const body = await r.json() as { accounts: Array<{ name: string; health: never }> };
  return body.accounts.find((a) => a.name === ACCOUNT)!.health;
}

/** `eggpool accounts status` against the running test server. */
async function cliStatus(dir: string, pool: TestEggPool): Promise<string> {
  const port = new URL(pool.origin).port;
  const toml = await Deno.readTextFile(`${dir}/config.toml`);
  const path = `${dir}/cli.toml`;
  await Deno.writeTextFile(path, toml.replace("[server]\n", `[server]\nport = ${port}\n`));
  const r = await runEggpool(["--config", path, "accounts", "status"], {
    cwd: dir,
    env: isolatedEnv(dir),
  });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

Deno.test("an account answering only 429 writes one event, shows rate_limited everywhere, and one recovery", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url) });
  // Retry-After: 0 lets every request reach the upstream again: six 429s in a row.
  mock.script.set(KEY, { status: 429, retryAfter: 0 });
  await send(pool, 6, 429);
  assert.equal(mock.requestsFor(KEY).filter((r) => r.route === "chat_completions").length, 6);

  const first = events(pool);
  assert.deepEqual(first.map((e) => e.type), ["rate_limited"], "one event, not one per 429");
  assert.equal(first[0].details.status_code, 429);
  assert.equal(first[0].details.reason, "rate_limited");

  const page = await accountsPage(pool);
  const cells = accountCells(page, ACCOUNT);
  assert.match(cells.Health, /^rate_limited backoff over, no success since; last failure \d{4}-/);
  assert.equal(badgeTip(page, ACCOUNT), "Upstream returned 429 recently");
  assert.equal(cells.Errors, "6");
  assert.equal(cells["Failed attempts"], "6");
  assert.equal((await liveHealth(pool)).state, "rate_limited");
  const cli = await cliStatus(tmp.path, pool);
  assert.match(cli, new RegExp(`${ACCOUNT}: .*circuit=closed, health=rate_limited`));
  assert.match(cli, /health: rate_limited, backoff over at \S+Z, HTTP 429, last failure \S+Z/);

  // The upstream serves again: one recovery, then nothing more.
  mock.script.clear();
  await send(pool, 3, 200);
  const after = events(pool);
  assert.deepEqual(after.map((e) => e.type), ["rate_limited", "recovered"]);
  assert.deepEqual(after[1].details.cleared, ["rate_limited"]);
  assert.equal(after[1].details.failures, 6);
  assert.equal(after[1].details.by, "success");
  const healed = await accountsPage(pool);
  assert.equal(accountCells(healed, ACCOUNT).Health, "healthy");
  assert.equal((await liveHealth(pool)).state, "healthy");
  assert.match(await cliStatus(tmp.path, pool), new RegExp(`${ACCOUNT}: .*health=healthy`));
  const logged = pool.logs.filter((l) => l.startsWith(`Account '${ACCOUNT}': `));
  assert.equal(logged.length, 2, logged.join("\n"));
  assert.match(logged[0], /^Account 'mockoai-1': rate_limited \(HTTP 429\) until \S+Z$/);
  assert.equal(logged[1], `Account '${ACCOUNT}': recovered`);
});

Deno.test("five 500s write one cooldown and one circuit_open event; the open circuit shows on the page", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: mockProvidersToml(mock.url) });
  mock.script.set(KEY, { status: 500, retryAfter: 0 });
  await send(pool, 5, 500);
  assert.deepEqual(events(pool).map((e) => e.type), ["cooldown_active", "circuit_open"]);
  const open = events(pool)[1].details;
  assert.equal(open.consecutive_failures, 5);
  assert.equal(open.status_code, 500);
  // The open circuit keeps the account out: EggPool answers itself, no new event.
  await send(pool, 3, 429);
  assert.equal(mock.requestsFor(KEY).filter((r) => r.route === "chat_completions").length, 5);
  assert.equal(events(pool).length, 2);

  const page = await accountsPage(pool);
  assert.match(accountCells(page, ACCOUNT).Health, /^circuit_open until \d{4}-/);
  assert.equal(badgeTip(page, ACCOUNT), "Account is circuit-broken until cooldown expires");
  const live = await liveHealth(pool);
  assert.equal(live.state, "circuit_open");
  assert.match(
    await cliStatus(tmp.path, pool),
    new RegExp(`${ACCOUNT}: .*circuit=open, health=circuit_open`),
  );
});

Deno.test("a rejected key is parked with one auth_failed event and recovers when a re-probe accepts it", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: mockProvidersToml(mock.url),
    upstream: "credential_reprobe_s = 0.2",
  });
  // The key now fails everywhere, the models endpoint included: a bad key, not a refused model.
  mock.script.set(ANY_KEY, { status: 401, match: () => true });
  await send(pool, 1, 401);
  await send(pool, 2, 503); // parked: no account left for the model
  const parked = events(pool);
  assert.deepEqual(parked.map((e) => e.type), ["auth_failed"]);
  assert.equal(parked[0].details.until, null);
  const page = await accountsPage(pool);
  assert.equal(accountCells(page, ACCOUNT).Health, "auth_failed until the key changes");
  assert.equal(badgeTip(page, ACCOUNT), "Upstream rejected the credentials");
  assert.equal((await liveHealth(pool)).state, "auth_failed");
  assert.match(
    await cliStatus(tmp.path, pool),
    /health: auth_failed \(authentication_failed\) until the key changes, HTTP 401/,
  );

  // The provider accepts the key again: the re-probe lifts the park, once.
  mock.script.clear();
  for (let i = 0; i < 200 && events(pool).length < 2; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const back = events(pool);
  assert.deepEqual(back.map((e) => e.type), ["auth_failed", "recovered"]);
  assert.equal(back[1].details.by, "credential");
  await send(pool, 2, 200);
  assert.equal(events(pool).length, 2);
  assert.equal((await liveHealth(pool)).state, "healthy");
});

Deno.test("a circuit's recovery and a restart's restored backoffs write no duplicate events (real SQLite)", async () => {
  await using tmp = await withTmpDir();
  const path = `${tmp.path}/usage.sqlite3`;
  const clock = fakeClock();
  const open = () => {
    const db = openDatabase({ path });
    migrate(db, MIGRATIONS, { clock: () => clock.now });
    syncConfigRows(
      db,
      [{ id: "p", baseUrl: "https://p.example/v1", protocols: ["openai"] }],
      [{ name: "a", providerId: "p", apiKeyEnv: "", enabled: true, weight: 1 }],
      clock.now,
    );
    return db;
  };
  const rows = (db: ReturnType<typeof open>) =>
    db.stmt("SELECT event_type AS t FROM account_events ORDER BY id").all().map((r) => r.t);
  const poolOn = (db: ReturnType<typeof open>) => {
    const backoffs = new BackoffBook({ clock, store: createBackoffStore(db) });
    backoffs.restore(loadBackoffs(db, clock.now).entries);
    return new AccountPool([fakeAccount("a", fakeProvider("p"))], {
      clock,
      backoffs,
      events: (e) => insertAccountEvent(db, e),
    });
  };
  const fail = (pool: AccountPool, status: number) =>
    pool.recordFailure(
      "a",
      classifyResponse(status, new Headers({ "retry-after": "60" }), undefined, {
        now: clock.now,
        quotaCooldownMs: 60_000,
      }),
      "m",
    );
  {
    using db = open();
    const pool = poolOn(db);
    for (let i = 0; i < 5; i++) fail(pool, 503);
    assert.deepEqual(rows(db), ["cooldown_active", "circuit_open"]);
    assert.equal(pool.status()[0].health.state, "circuit_open");
    clock.advance(CIRCUIT_OPEN_MS);
    pool.tryAcquire("a")?.();
    pool.clearOnSuccess("a", "m");
    assert.deepEqual(rows(db), ["cooldown_active", "circuit_open", "circuit_closed", "recovered"]);
    pool.clearOnSuccess("a", "m");
    assert.equal(rows(db).length, 4, "a second success changes nothing");
    fail(pool, 429);
    assert.equal(rows(db).at(-1), "rate_limited");
  }
  // A restart restores the 429 streak: the next 429 continues it, no new event.
  clock.advance(1_000);
  {
    using db = open();
    const pool = poolOn(db);
    assert.equal(pool.status()[0].health.state, "rate_limited");
    fail(pool, 429);
    assert.equal(rows(db).length, 5);
    assert.deepEqual(rows(db).slice(-1), ["rate_limited"]);
  }
});
