import assert from "node:assert/strict";
import { captureError } from "./_testing.ts";
import { openDatabase } from "./db.ts";
import {
  isBusyError,
  isConstraintError,
  isDiskFullError,
  isFatalStorageError,
  isIoError,
  sqliteErrorKind,
} from "./sqlite_errors.ts";

Deno.test("isDiskFullError() recognises SQLITE_FULL from SQLite", () => {
  using db = openDatabase({ path: ":memory:" });
  // max_page_count makes SQLite report SQLITE_FULL without filling a real disk.
  db.exec("CREATE TABLE t (x BLOB); PRAGMA max_page_count = 4");
  const error = captureError(() => {
    for (let i = 0; i < 100; i++) db.stmt("INSERT INTO t VALUES (randomblob(4000))").run();
  });
  assert.equal(isDiskFullError(error), true, String(error));
  assert.equal(isFatalStorageError(error), true);
  assert.equal(isBusyError(error), false);
});

Deno.test("isConstraintError() recognises UNIQUE, CHECK and STRICT type failures", () => {
  using db = openDatabase({ path: ":memory:" });
  db.exec("CREATE TABLE t (x INTEGER UNIQUE CHECK (x > 0)) STRICT; INSERT INTO t VALUES (1)");
  for (const value of [1, -1, 1.5]) {
    const error = captureError(() => db.stmt("INSERT INTO t VALUES (?)").run(value));
    assert.equal(isConstraintError(error), true, String(error));
    assert.equal(isFatalStorageError(error), false);
  }
});

Deno.test("sqliteErrorKind() calls other SQLite errors 'other' and ignores non-SQLite errors", () => {
  using db = openDatabase({ path: ":memory:" });
  assert.equal(sqliteErrorKind(captureError(() => db.exec("SELECT * FROM missing"))), "other");
  assert.equal(sqliteErrorKind(new Error("database or disk is full")), undefined);
  assert.equal(sqliteErrorKind("disk I/O error"), undefined);
  assert.equal(isDiskFullError(undefined), false);
});

Deno.test("sqliteErrorKind() prefers the numeric errcode when the runtime sets one", () => {
  // The shape Node's node:sqlite throws: extended result code plus its text.
  function nodeError(errcode: number, message: string) {
    return Object.assign(new Error(message), { code: "ERR_SQLITE_ERROR", errcode, errstr: "" });
  }
  assert.equal(isIoError(nodeError(10 | (4 << 8), "misleading text")), true); // SQLITE_IOERR_FSYNC
  assert.equal(isDiskFullError(nodeError(13, "")), true);
  assert.equal(isBusyError(nodeError(5 | (1 << 8), "")), true); // SQLITE_BUSY_RECOVERY
  assert.equal(isBusyError(nodeError(6, "")), true); // SQLITE_LOCKED
  assert.equal(sqliteErrorKind(nodeError(26, "")), "corrupt"); // SQLITE_NOTADB
  assert.equal(sqliteErrorKind(nodeError(1, "database is locked")), "other");
});

Deno.test("sqliteErrorKind() falls back to SQLite's fixed message texts", () => {
  function denoError(message: string) {
    return Object.assign(new Error(message), { code: "ERR_SQLITE_ERROR" });
  }
  assert.equal(isIoError(denoError("disk I/O error")), true);
  assert.equal(isBusyError(denoError("database is locked")), true);
  assert.equal(isBusyError(denoError("database table is locked: t")), true);
  assert.equal(sqliteErrorKind(denoError("database disk image is malformed")), "corrupt");
  assert.equal(sqliteErrorKind(denoError("file is not a database")), "corrupt");
  assert.equal(isFatalStorageError(denoError("file is not a database")), true);
  assert.equal(sqliteErrorKind(denoError("unable to open database file")), "cant_open");
});
