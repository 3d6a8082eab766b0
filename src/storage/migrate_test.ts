import assert from "node:assert/strict";
import { withTmpDir } from "../../tests/_helpers/tmp.ts";
import { captureError, dumpSchema, queryPlan } from "./_testing.ts";
import { type Db, openDatabase } from "./db.ts";
import {
  listAppliedMigrations,
  migrate,
  type Migration,
  migrationChecksum,
  MigrationError,
} from "./migrate.ts";
import { MIGRATIONS } from "./migrations.ts";

const EXPECTED_TABLES = [
  "account_backoffs",
  "account_events",
  "account_hours",
  "account_models",
  "accounts",
  "attempt_days",
  "attempt_latency_days",
  "catalog_state",
  "client_ip_days",
  "decision_days",
  "model_prices",
  "models",
  "operational_events",
  "phase_days",
  "provider_models",
  "provider_pings",
  "providers",
  "request_attempts",
  "request_days",
  "request_hours",
  "request_transcodes",
  "requests",
  "routing_exclusion_days",
  "schema_migrations",
  "session_pins",
  "transcode_days",
  "transcode_field_days",
  "ttft_buckets",
  "ttft_days",
  "ttft_days_done",
  "usage_rollups",
];

const EXPECTED_INDEXES = [
  "idx_requests_started",
  "idx_requests_pending",
  "idx_request_attempts_request",
  "idx_request_attempts_account_started",
  "idx_account_backoffs_until",
  "idx_provider_pings_provider_probed",
  "idx_account_events_occurred",
  "idx_operational_events_occurred",
];

function names(db: Db, type: "table" | "index"): string[] {
  return db.stmt("SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%'")
    .all(type).map((r) => String(r.name));
}

/** A small synthetic migration list, to test the runner apart from the real schema. */
function fakeMigrations(): Migration[] {
  return [
    {
      version: 1,
      name: "0001_parents.sql",
      sql: "CREATE TABLE parent (id INTEGER PRIMARY KEY, label TEXT);",
    },
    {
      version: 2,
      name: "0002_children.sql",
      sql: "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));",
    },
  ];
}

async function withFileDb(fn: (db: Db, path: string) => void | Promise<void>) {
  await using tmp = await withTmpDir();
  const path = `${tmp.path}/usage.sqlite3`;
  using db = openDatabase({ path });
  await fn(db, path);
}

Deno.test("migrate() applies every migration to a fresh database", async () => {
  await withFileDb((db) => {
    const applied = migrate(db, MIGRATIONS, { clock: () => 1_700_000_000_000 });
    assert.deepEqual(applied.map((m) => m.name), MIGRATIONS.map((m) => m.name));
    assert.deepEqual(listAppliedMigrations(db), applied);
    assert.equal(applied[0].checksum, migrationChecksum(MIGRATIONS[0].sql));
    assert.equal(applied[0].appliedAt, 1_700_000_000_000);
    assert.deepEqual(names(db, "table").sort(), EXPECTED_TABLES);
    const indexes = names(db, "index");
    for (const index of EXPECTED_INDEXES) assert.ok(indexes.includes(index), `missing ${index}`);
    assert.equal(db.quickCheck(), "ok");
    assert.equal(db.integrityCheck(), "ok");
    assert.equal(db.settings().foreignKeys, true);
  });
});

Deno.test("migrate() is a no-op when the schema is up to date", async () => {
  await withFileDb((db, path) => {
    migrate(db, MIGRATIONS);
    const before = dumpSchema(db);
    assert.deepEqual(migrate(db, MIGRATIONS), []);
    db.close();
    using again = openDatabase({ path });
    assert.deepEqual(migrate(again, MIGRATIONS), []);
    assert.deepEqual(dumpSchema(again), before);
    assert.equal(listAppliedMigrations(again).length, MIGRATIONS.length);
  });
});

Deno.test("migrate() reaches the same schema from every past version", () => {
  using fresh = openDatabase({ path: ":memory:" });
  migrate(fresh, MIGRATIONS);
  const expected = dumpSchema(fresh);
  for (let k = 0; k < MIGRATIONS.length; k++) {
    using db = openDatabase({ path: ":memory:" });
    migrate(db, MIGRATIONS.slice(0, k));
    const applied = migrate(db, MIGRATIONS);
    assert.deepEqual(applied.map((m) => m.version), MIGRATIONS.slice(k).map((m) => m.version));
    assert.deepEqual(dumpSchema(db), expected);
  }
});

Deno.test("0002 moves stored routing decisions onto their request rows as arrays", () => {
  using db = openDatabase({ path: ":memory:" });
  migrate(db, MIGRATIONS.slice(0, 1));
  db.raw.exec(
    `
    INSERT INTO providers (id, base_url, protocols_json, created_at, updated_at)
      VALUES ('p', 'https://p.example', '["openai"]', 0, 0);
    INSERT INTO accounts (id, name, provider_id, api_key_env, created_at, updated_at)
      VALUES (7, 'a', 'p', '', 0, 0);
    INSERT INTO requests (id, proxy_request_id, requested_model, client_protocol, started_at)
      VALUES (1, 'r1', 'm/p', 'openai', 0), (2, 'r2', 'm', 'openai', 0);
    INSERT INTO request_attempts (request_id, attempt_number, account_id, provider_id, model_id,
      upstream_protocol, started_at) VALUES (1, 1, 7, 'p', 'm', 'openai', 0);
    INSERT INTO routing_decisions (request_id, attempt_number, decided_at, model_id, provider_id,
      client_protocol, strategy, eligible_count)
    VALUES (1, 2, 6, 'm', 'p', 'openai', 'quota_fair', 0);
    INSERT INTO routing_decisions (request_id, attempt_number, decided_at, model_id, provider_id,
      client_protocol, strategy, selected_account_id, selected_score, eligible_count,
      candidates_json, exclusions_json)
    VALUES (1, 1, 5, 'm', 'p', 'openai', 'quota_fair', 7, 0.25, 1,
      '[{"account_id":7,"account_name":"a","provider_id":"p","tier":2,"score":0.25,"in_band":true,` +
      `"components":{"p5h":0.1,"p7d":0.2,"p30d":0.3,"peak":0.3,"mean":0.2,"inflight":1,"health":0}}]',
      '[{"account_id":7,"account_name":"a","reason":"rate_limited","until":99}]');
  `,
  );
  migrate(db, MIGRATIONS);
  const rows = db.stmt("SELECT id, routing_json FROM requests ORDER BY id").all();
  assert.deepEqual(JSON.parse(String(rows[0].routing_json)), [
    [1, 5, "p", 7, 0.25, 1, [[7, 2, 0.25, 1, 0.1, 0.2, 0.3, 0.3, 0.2, 1, 0]], [[
      7,
      "rate_limited",
      99,
    ]]],
    [2, 6, "p", null, null, 0, [], []],
  ]);
  assert.equal(rows[1].routing_json, null, "a request without decisions gets none");
  assert.equal(db.stmt("SELECT count(*) AS n FROM request_attempts").get()?.n, 1);
  assert.deepEqual(db.raw.prepare("PRAGMA foreign_key_check").all(), []);
  assert.equal(db.integrityCheck(), "ok");
});

Deno.test("the dashboard's time-range query on requests uses an index", () => {
  using db = openDatabase({ path: ":memory:" });
  migrate(db, MIGRATIONS);
  const plan = queryPlan(
    db,
    "SELECT count(*), sum(cost_microdollars), sum(input_tokens) FROM requests WHERE started_at >= ? AND started_at < ?",
  );
  assert.ok(plan.some((line) => /^SEARCH requests USING (COVERING )?INDEX/.test(line)), `${plan}`);
  assert.ok(!plan.some((line) => line.startsWith("SCAN requests")), `${plan}`);
});

Deno.test("migrate() applies pending migrations in version order", () => {
  using db = openDatabase({ path: ":memory:" });
  const [first, second] = fakeMigrations();
  assert.deepEqual(migrate(db, [first]).map((m) => m.version), [1]);
  // Order in the manifest does not matter; versions do.
  assert.deepEqual(migrate(db, [second, first]).map((m) => m.name), ["0002_children.sql"]);
  assert.deepEqual(migrate(db, [first, second]), []);
});

Deno.test("migrate() refuses a tampered migration", async () => {
  await withFileDb((db) => {
    migrate(db, MIGRATIONS);
    const before = dumpSchema(db);
    const tampered = MIGRATIONS.map((m, i) => i === 0 ? { ...m, sql: `${m.sql}\n-- edited\n` } : m);
    const extra: Migration = { version: 9000, name: "9000_extra.sql", sql: "CREATE TABLE x (a);" };
    const error = captureError(() => migrate(db, [...tampered, extra]));
    assert.ok(error instanceof MigrationError);
    const message = error.message;
    assert.match(message, /Migration "0001_init\.sql" was changed after it was applied/);
    assert.ok(message.includes(`recorded sha256 ${migrationChecksum(MIGRATIONS[0].sql)}`));
    assert.ok(message.includes(`embedded ${migrationChecksum(tampered[0].sql)}`));
    assert.match(message, /restore the file or restore the database from a backup/);
    assert.equal(error.version, 1);
    // Nothing was applied, not even the unrelated pending migration.
    assert.deepEqual(dumpSchema(db), before);
  });
});

Deno.test("migrate() refuses a database from a newer EggPool", async () => {
  await withFileDb((db) => {
    migrate(db, MIGRATIONS);
    db.stmt("INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', 'abc', 0)").run();
    assert.throws(() => migrate(db, MIGRATIONS), (error: unknown) => {
      assert.ok(error instanceof MigrationError);
      assert.match(error.message, /"9999_future\.sql" \(version 9999\)/);
      assert.match(error.message, /written by a newer EggPool/);
      return true;
    });
  });
});

Deno.test("migrate() refuses an applied migration this build lacks, and a late lower number", () => {
  const [first, second] = fakeMigrations();
  const third: Migration = { version: 3, name: "0003_more.sql", sql: "CREATE TABLE more (a);" };
  using db = openDatabase({ path: ":memory:" });
  migrate(db, [first, third]);
  assert.throws(() => migrate(db, [first, second, third]), /already has the later migration/);
  using other = openDatabase({ path: ":memory:" });
  migrate(other, [first, second, third]);
  assert.throws(() => migrate(other, [first, third]), /this build does not include it/);
});

Deno.test("migrate() rolls back a migration that fails", () => {
  using db = openDatabase({ path: ":memory:" });
  const [first] = fakeMigrations();
  const broken: Migration = {
    version: 2,
    name: "0002_broken.sql",
    sql: "CREATE TABLE half (a INTEGER);\nINSERT INTO missing VALUES (1);",
  };
  assert.throws(() => migrate(db, [first, broken]), /Cannot apply migration "0002_broken\.sql"/);
  assert.deepEqual(listAppliedMigrations(db).map((m) => m.version), [1]);
  assert.ok(!names(db, "table").includes("half"));
  assert.equal(db.raw.isTransaction, false);
  assert.equal(db.settings().foreignKeys, true);
});

Deno.test("migrate() lets a migration rebuild a referenced table", () => {
  using db = openDatabase({ path: ":memory:" });
  const migrations = fakeMigrations();
  migrate(db, migrations);
  db.exec("INSERT INTO parent VALUES (1, 'one'); INSERT INTO child VALUES (10, 1)");
  const rebuild: Migration = {
    version: 3,
    name: "0003_rebuild_parent.sql",
    sql: `CREATE TABLE parent_new (id INTEGER PRIMARY KEY, label TEXT NOT NULL DEFAULT '');
INSERT INTO parent_new (id, label) SELECT id, ifnull(label, '') FROM parent;
DROP TABLE parent;
ALTER TABLE parent_new RENAME TO parent;`,
  };
  assert.deepEqual(migrate(db, [...migrations, rebuild]).map((m) => m.version), [3]);
  assert.equal(
    db.stmt("SELECT count(*) AS n FROM child JOIN parent ON parent.id = parent_id")
      .get()?.n,
    1,
  );
  assert.throws(() => db.exec("DELETE FROM parent"), /FOREIGN KEY/);
});

Deno.test("migrate() refuses a migration that leaves foreign key violations", () => {
  using db = openDatabase({ path: ":memory:" });
  const migrations = fakeMigrations();
  const orphan: Migration = {
    version: 3,
    name: "0003_orphan.sql",
    sql: "INSERT INTO child VALUES (1, 42);",
  };
  assert.throws(() => migrate(db, [...migrations, orphan]), /violating foreign keys/);
  assert.deepEqual(listAppliedMigrations(db).map((m) => m.version), [1, 2]);
  assert.equal(db.stmt("SELECT count(*) AS n FROM child").get()?.n, 0);
});

Deno.test("migrate() checks but never writes on a read-only connection", async () => {
  await withFileDb((db, path) => {
    migrate(db, MIGRATIONS);
    using reader = openDatabase({ path, readOnly: true });
    assert.deepEqual(migrate(reader, MIGRATIONS), []);
    const extra: Migration = { version: 9000, name: "9000_extra.sql", sql: "CREATE TABLE x (a);" };
    assert.throws(() => migrate(reader, [...MIGRATIONS, extra]), /open read-only/);
  });
});

Deno.test("migrate() validates the migration list", () => {
  using db = openDatabase({ path: ":memory:" });
  const sql = "SELECT 1;";
  assert.throws(() => migrate(db, [{ version: 2, name: "0001_a.sql", sql }]), /named NNNN_/);
  assert.throws(() => migrate(db, [{ version: 1, name: "1_a.sql", sql }]), /named NNNN_/);
  assert.throws(
    () =>
      migrate(db, [{ version: 1, name: "0001_a.sql", sql }, {
        version: 1,
        name: "0001_b.sql",
        sql,
      }]),
    /version 1 appears twice/,
  );
  assert.throws(() => db.transaction(() => migrate(db, MIGRATIONS)), /transaction is open/);
});
