/**
 * Recognising SQLite failures by their result code. Spec 05 §1: a full disk, an
 * I/O error or corruption leave the database in an unknown state (admission
 * closes and the worker exits); busy/locked is only local contention.
 *
 * Node's `node:sqlite` attaches the extended result code as `errcode` and its
 * text as `errstr`. Deno 2.9's implementation sets only `code: "ERR_SQLITE_ERROR"`
 * and the message, which is SQLite's own `sqlite3_errmsg()` text. So the numeric
 * code wins when present; otherwise the fixed texts SQLite uses for those result
 * codes (see `sqlite3ErrStr()` in SQLite's main.c) identify them.
 */

/** What a SQLite failure means for the caller. */
export type SqliteErrorKind =
  | "busy"
  | "disk_full"
  | "io"
  | "corrupt"
  | "readonly"
  | "cant_open"
  | "constraint"
  | "other";

/** SQLite primary result codes (https://sqlite.org/rescode.html). */
const PRIMARY_CODES: ReadonlyMap<number, SqliteErrorKind> = new Map([
  [5, "busy"], // SQLITE_BUSY
  [6, "busy"], // SQLITE_LOCKED
  [8, "readonly"], // SQLITE_READONLY
  [10, "io"], // SQLITE_IOERR
  [11, "corrupt"], // SQLITE_CORRUPT
  [13, "disk_full"], // SQLITE_FULL
  [14, "cant_open"], // SQLITE_CANTOPEN
  [19, "constraint"], // SQLITE_CONSTRAINT
  [26, "corrupt"], // SQLITE_NOTADB
]);

/** Message prefixes SQLite produces for the codes above, for runtimes without `errcode`. */
const MESSAGE_PREFIXES: readonly [RegExp, SqliteErrorKind][] = [
  [/^database is locked/, "busy"],
  [/^database (table|schema) is locked/, "busy"],
  [/^attempt to write a readonly database/, "readonly"],
  [/^disk I\/O error/, "io"],
  [/^database disk image is malformed/, "corrupt"],
  [/^malformed database schema/, "corrupt"],
  [/^file is not a database/, "corrupt"],
  [/^database or disk is full/, "disk_full"],
  [/^unable to open database file/, "cant_open"],
  [/^(UNIQUE|NOT NULL|CHECK|FOREIGN KEY|PRIMARY KEY)? ?constraint failed/, "constraint"],
  // SQLITE_CONSTRAINT_DATATYPE from a STRICT table.
  [/^cannot store \w+ value in \w+ column/, "constraint"],
];

const SQLITE_ERROR_CODE = "ERR_SQLITE_ERROR";

/** The kind of a SQLite error, or undefined when `error` did not come from SQLite. */
export function sqliteErrorKind(error: unknown): SqliteErrorKind | undefined {
  if (!(error instanceof Error)) return undefined;
  const fields = error as Error & { code?: unknown; errcode?: unknown; errstr?: unknown };
  if (fields.code !== SQLITE_ERROR_CODE) return undefined;
  if (typeof fields.errcode === "number") {
    // Extended codes carry the primary code in their low byte.
    return PRIMARY_CODES.get(fields.errcode & 0xff) ?? "other";
  }
  const text = typeof fields.errstr === "string" ? fields.errstr : error.message;
  for (const [pattern, kind] of MESSAGE_PREFIXES) {
    if (pattern.test(text)) return kind;
  }
  return "other";
}

/** SQLITE_FULL: the disk (or `max_page_count`) is full. */
export function isDiskFullError(error: unknown): boolean {
  return sqliteErrorKind(error) === "disk_full";
}

/** SQLITE_IOERR: the OS failed a read, write or sync. */
export function isIoError(error: unknown): boolean {
  return sqliteErrorKind(error) === "io";
}

/** SQLITE_BUSY or SQLITE_LOCKED: another connection holds a lock past the busy timeout. */
export function isBusyError(error: unknown): boolean {
  return sqliteErrorKind(error) === "busy";
}

/** SQLITE_CONSTRAINT: a UNIQUE, CHECK, NOT NULL or FOREIGN KEY rule rejected a write. */
export function isConstraintError(error: unknown): boolean {
  return sqliteErrorKind(error) === "constraint";
}

/**
 * A failure after which the database state is unknown (full disk, I/O error,
 * corruption): the server stops admitting requests and exits for a restart.
 */
export function isFatalStorageError(error: unknown): boolean {
  const kind = sqliteErrorKind(error);
  return kind === "disk_full" || kind === "io" || kind === "corrupt";
}
