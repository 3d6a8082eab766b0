import assert from "node:assert/strict";
import { withTmpDir } from "../../tests/_helpers/tmp.ts";
import { captureError } from "./_testing.ts";
import { openDatabase } from "./db.ts";
import { isBusyError, sqliteErrorKind } from "./sqlite_errors.ts";

function countRows(db: ReturnType<typeof openDatabase>, table: string): number {
  return Number(db.stmt(`SELECT count(*) AS n FROM ${table}`).get()?.n);
}

Deno.test("openDatabase() creates the parent folder and applies the pragmas", async () => {
  await using tmp = await withTmpDir();
  const path = `${tmp.path}/nested/deeper/usage.sqlite3`;
  using db = openDatabase({ path, busyTimeoutMs: 1234, journalSizeLimit: 1 << 20 });
  assert.equal(Deno.statSync(path).isFile, true);
  assert.deepEqual(db.settings(), {
    journalMode: "wal",
    synchronous: "NORMAL",
    foreignKeys: true,
    busyTimeoutMs: 1234,
  });
  assert.equal(db.raw.prepare("PRAGMA synchronous").get()?.synchronous, 1);
  assert.equal(db.raw.prepare("PRAGMA journal_size_limit").get()?.journal_size_limit, 1 << 20);
});

Deno.test("openDatabase() honours wal: false and other synchronous modes", async () => {
  await using tmp = await withTmpDir();
  using db = openDatabase({ path: `${tmp.path}/a.sqlite3`, wal: false, synchronous: "FULL" });
  assert.equal(db.settings().journalMode, "delete");
  assert.equal(db.settings().synchronous, "FULL");
});

Deno.test("openDatabase() rejects invalid options", () => {
  assert.throws(() => openDatabase({ path: ":memory:", busyTimeoutMs: -1 }), RangeError);
  assert.throws(
    () => openDatabase({ path: ":memory:", synchronous: "SOMETIMES" as "OFF" }),
    /unknown synchronous mode "SOMETIMES"/,
  );
});

Deno.test("openDatabase() opens an in-memory database without a file", () => {
  using db = openDatabase({ path: ":memory:" });
  assert.equal(db.settings().journalMode, "memory");
  assert.deepEqual(db.fileSizes(), { dbBytes: 0, walBytes: 0, shmBytes: 0 });
});

Deno.test("Db.stmt() caches prepared statements by SQL text", () => {
  using db = openDatabase({ path: ":memory:" });
  const a = db.stmt("SELECT 1 AS one");
  assert.equal(db.stmt("SELECT 1 AS one"), a);
  assert.notEqual(db.stmt("SELECT 2 AS two"), a);
  assert.equal(a.get()?.one, 1);
});

Deno.test("Db.transaction() commits when the callback returns", () => {
  using db = openDatabase({ path: ":memory:" });
  db.exec("CREATE TABLE t (x INTEGER)");
  const result = db.transaction(() => {
    assert.equal(db.inTransaction, true);
    db.stmt("INSERT INTO t VALUES (?)").run(1);
    return "done";
  });
  assert.equal(result, "done");
  assert.equal(db.inTransaction, false);
  assert.equal(countRows(db, "t"), 1);
});

Deno.test("Db.transaction() rolls back when the callback throws", () => {
  using db = openDatabase({ path: ":memory:" });
  db.exec("CREATE TABLE t (x INTEGER)");
  assert.throws(
    () =>
      db.transaction(() => {
        db.stmt("INSERT INTO t VALUES (?)").run(1);
        throw new Error("boom");
      }),
    /boom/,
  );
  assert.equal(countRows(db, "t"), 0);
  assert.equal(db.raw.isTransaction, false);
  // The connection is usable afterwards.
  db.transaction(() => db.stmt("INSERT INTO t VALUES (?)").run(2));
  assert.equal(countRows(db, "t"), 1);
});

Deno.test("Db.transaction() runs a nested call inside the outer one", () => {
  using db = openDatabase({ path: ":memory:" });
  db.exec("CREATE TABLE t (x INTEGER)");
  db.transaction(() => {
    db.stmt("INSERT INTO t VALUES (?)").run(1);
    db.transaction(() => db.stmt("INSERT INTO t VALUES (?)").run(2));
    // A nested failure that the outer callback handles undoes only the nested writes.
    assert.throws(() =>
      db.transaction(() => {
        db.stmt("INSERT INTO t VALUES (?)").run(3);
        throw new Error("inner");
      })
    );
    assert.equal(db.inTransaction, true);
  });
  const rows = db.stmt("SELECT x FROM t ORDER BY x").all().map((r) => r.x);
  assert.deepEqual(rows, [1, 2]);

  // An error escaping the nested call rolls back everything.
  assert.throws(() =>
    db.transaction(() => {
      db.stmt("INSERT INTO t VALUES (?)").run(4);
      db.transaction(() => {
        throw new Error("inner");
      });
    })
  );
  assert.equal(countRows(db, "t"), 2);
});

Deno.test("Db.transaction() refuses an async callback and rolls back", () => {
  using db = openDatabase({ path: ":memory:" });
  db.exec("CREATE TABLE t (x INTEGER)");
  assert.throws(
    () =>
      db.transaction(async () => {
        db.stmt("INSERT INTO t VALUES (?)").run(1);
        await Promise.resolve();
      }),
    /must be synchronous/,
  );
  assert.equal(countRows(db, "t"), 0);
});

Deno.test("Db.transaction() takes the write lock up front (BEGIN IMMEDIATE)", async () => {
  await using tmp = await withTmpDir();
  const path = `${tmp.path}/lock.sqlite3`;
  using writer = openDatabase({ path });
  using other = openDatabase({ path, busyTimeoutMs: 0 });
  writer.exec("CREATE TABLE t (x INTEGER)");
  writer.transaction(() => {
    // No write has happened yet, but the other connection cannot start a write transaction.
    const error = captureError(() => other.transaction(() => {}));
    assert.equal(isBusyError(error), true, String(error));
    assert.equal(other.inTransaction, false);
  });
  other.transaction(() => other.stmt("INSERT INTO t VALUES (1)").run());
});

Deno.test("openDatabase() with readOnly reads but refuses writes", async () => {
  await using tmp = await withTmpDir();
  const path = `${tmp.path}/ro.sqlite3`;
  using writer = openDatabase({ path });
  writer.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7)");
  using reader = openDatabase({ path, readOnly: true });
  assert.equal(reader.transaction(() => reader.stmt("SELECT x FROM t").get()?.x), 7);
  const error = captureError(() => reader.exec("INSERT INTO t VALUES (8)"));
  assert.equal(sqliteErrorKind(error), "readonly");
});

Deno.test("Db.integrityCheck() and Db.quickCheck() report ok for a healthy file", async () => {
  await using tmp = await withTmpDir();
  using db = openDatabase({ path: `${tmp.path}/ok.sqlite3` });
  db.exec("CREATE TABLE t (x INTEGER PRIMARY KEY, y TEXT); CREATE INDEX t_y ON t (y)");
  db.transaction(() => {
    for (let i = 0; i < 100; i++) db.stmt("INSERT INTO t (y) VALUES (?)").run(`v${i}`);
  });
  assert.equal(db.quickCheck(), "ok");
  assert.equal(db.integrityCheck(), "ok");
});

Deno.test("Db.checkpoint() moves the WAL into the database file", async () => {
  await using tmp = await withTmpDir();
  using db = openDatabase({ path: `${tmp.path}/wal.sqlite3` });
  db.exec("CREATE TABLE t (x BLOB)");
  db.transaction(() => db.stmt("INSERT INTO t VALUES (randomblob(100000))").run());
  assert.ok(db.fileSizes().walBytes > 0);
  const result = db.checkpoint("TRUNCATE");
  assert.equal(result.busy, false);
  assert.equal(result.walFrames, result.checkpointedFrames);
  const sizes = db.fileSizes();
  assert.equal(sizes.walBytes, 0);
  assert.ok(sizes.dbBytes > 100000);
});

Deno.test("Db.vacuum() refuses to run inside a transaction", () => {
  using db = openDatabase({ path: ":memory:" });
  assert.throws(() => db.transaction(() => db.vacuum()), /transaction is open/);
  db.vacuum();
});

Deno.test("Db.close() can be called twice", () => {
  const db = openDatabase({ path: ":memory:" });
  db.close();
  db.close();
  assert.equal(db.isOpen, false);
});
