/**
 * The SQLite connection: opening with the pragmas of spec 05 §1, a statement
 * cache, `BEGIN IMMEDIATE` transactions and maintenance helpers. This module
 * and its siblings are the only places that import `node:sqlite`.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { isBusyError } from "./sqlite_errors.ts";

/** Values of `PRAGMA synchronous`; NORMAL is durable enough in WAL mode. */
export type SynchronousMode = "OFF" | "NORMAL" | "FULL" | "EXTRA";

/** Options for {@linkcode openDatabase}; mirrors the `[database]` config section. */
export interface OpenDatabaseOptions {
  /** File path (relative to the working directory) or `":memory:"`. */
  path: string;
  /** How long a statement waits for another connection's lock. Default 5000. */
  busyTimeoutMs?: number;
  /** Use `journal_mode = WAL`. Default true; ignored for `:memory:` and read-only connections. */
  wal?: boolean;
  /** Default NORMAL. */
  synchronous?: SynchronousMode;
  /** Bytes the WAL file is truncated to after a checkpoint; unset = SQLite's default (no limit). */
  journalSizeLimit?: number;
  /** Open an existing file read-only (the optional dashboard connection). */
  readOnly?: boolean;
}

/**
 * Waits, without blocking the event loop, until no other process holds a
 * write lock on the database at `path`, checking every `pollMs`. A server
 * started while a backup or a `sqlite3` shell holds the lock would otherwise
 * fail its first write after `busy_timeout_ms` and exit. Resolves true once
 * the lock is free (or the file does not exist yet), false after `maxWaitMs`;
 * `onWait` is called once, when the first check finds it locked.
 */
export async function waitUntilWritable(
  path: string,
  options: { maxWaitMs: number; pollMs?: number; onWait?: () => void },
): Promise<boolean> {
  if (path === ":memory:") return true;
  try {
    Deno.statSync(path);
  } catch {
    return true; // nothing to lock yet: opening creates it
  }
  const deadline = Date.now() + options.maxWaitMs;
  let waited = false;
  for (;;) {
    let probe: DatabaseSync | undefined;
    try {
      probe = new DatabaseSync(path);
      probe.exec("PRAGMA busy_timeout = 0");
      probe.exec("BEGIN IMMEDIATE");
      probe.exec("ROLLBACK");
      return true;
    } catch (error) {
      // Anything but a lock is for the real open to report, with its own message.
      if (!isBusyError(error)) return true;
    } finally {
      try {
        probe?.close();
      } catch { /* closing after a failed open */ }
    }
    if (Date.now() >= deadline) return false;
    if (!waited) options.onWait?.();
    waited = true;
    await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
  }
}

/** Result of `PRAGMA wal_checkpoint`; `walFrames` is -1 when the database is not in WAL mode. */
export interface CheckpointResult {
  /** True when a reader or writer kept the checkpoint from finishing. */
  busy: boolean;
  walFrames: number;
  checkpointedFrames: number;
}

/** Checkpoint modes of `PRAGMA wal_checkpoint`. */
export type CheckpointMode = "PASSIVE" | "FULL" | "RESTART" | "TRUNCATE";

/** On-disk sizes in bytes; 0 for a missing file or an in-memory database. */
export interface DatabaseFileSizes {
  dbBytes: number;
  walBytes: number;
  shmBytes: number;
}

/** The live connection settings, as SQLite reports them (for the Runtime page and tests). */
export interface DatabaseSettings {
  journalMode: string;
  synchronous: SynchronousMode;
  foreignKeys: boolean;
  busyTimeoutMs: number;
}

const DEFAULT_BUSY_TIMEOUT_MS = 5000;
/** Statements are cached by SQL text; the cap only matters for generated SQL (IN lists). */
const STATEMENT_CACHE_MAX = 512;
const SYNCHRONOUS_MODES: readonly SynchronousMode[] = ["OFF", "NORMAL", "FULL", "EXTRA"];

/** The directory holding the file at `path` ("." for a bare file name). */
function parentDir(path: string): string {
  const cut = path.lastIndexOf("/");
  return cut > 0 ? path.slice(0, cut) : cut === 0 ? "/" : ".";
}

/**
 * Opens (creating when needed) a database and applies the connection pragmas.
 * Does not migrate: call `migrate()` next.
 */
export function openDatabase(options: OpenDatabaseOptions): Db {
  const readOnly = options.readOnly ?? false;
  const inMemory = isMemoryPath(options.path);
  if (!inMemory && !readOnly) {
    Deno.mkdirSync(parentDir(options.path), { recursive: true });
  }
  const raw = new DatabaseSync(options.path, { readOnly, enableForeignKeyConstraints: true });
  try {
    applyPragmas(raw, options, readOnly || inMemory);
  } catch (error) {
    raw.close();
    throw error;
  }
  return new Db(raw, { path: options.path, readOnly, options });
}

function applyPragmas(raw: DatabaseSync, options: OpenDatabaseOptions, skipJournal: boolean) {
  const busy = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  requireNonNegativeInteger("busyTimeoutMs", busy);
  // Busy timeout first, so switching to WAL waits for other connections instead of failing.
  raw.exec(`PRAGMA busy_timeout = ${busy}`);
  raw.exec("PRAGMA foreign_keys = ON");
  // Statement journals and sort spills stay in memory: each statement of a
  // stats batch otherwise writes its undo pages to a temp file first.
  raw.exec("PRAGMA temp_store = MEMORY");
  if (!skipJournal && (options.wal ?? true)) {
    raw.exec("PRAGMA journal_mode = WAL");
  }
  const synchronous = options.synchronous ?? "NORMAL";
  if (!SYNCHRONOUS_MODES.includes(synchronous)) {
    throw new RangeError(`Cannot open database: unknown synchronous mode "${synchronous}"`);
  }
  raw.exec(`PRAGMA synchronous = ${synchronous}`);
  if (options.journalSizeLimit !== undefined) {
    requireNonNegativeInteger("journalSizeLimit", options.journalSizeLimit);
    raw.exec(`PRAGMA journal_size_limit = ${options.journalSizeLimit}`);
  }
}

function requireNonNegativeInteger(name: string, value: number) {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot open database: "${name}" must be a non-negative integer, got ${value}`,
    );
  }
}

function isMemoryPath(path: string): boolean {
  return path === ":memory:" || path === "";
}

/**
 * One SQLite connection. Repositories take a `Db`, prepare through `stmt()` and
 * group writes with `transaction()`; `raw` is there for the backup API and tests.
 */
export class Db {
  #raw: DatabaseSync;
  readonly path: string;
  readonly readOnly: boolean;
  readonly #openOptions?: OpenDatabaseOptions;
  #statements = new Map<string, StatementSync>();
  #depth = 0;
  #savepoints = 0;
  #identity: FileIdentity | undefined;

  constructor(
    raw: DatabaseSync,
    options: { path: string; readOnly: boolean; options?: OpenDatabaseOptions },
  ) {
    this.#raw = raw;
    this.path = options.path;
    this.readOnly = options.readOnly;
    this.#openOptions = options.options;
    this.#identity = fileIdentity(this.path);
  }

  /** The underlying connection (replaced by {@linkcode Db.reopen}). */
  get raw(): DatabaseSync {
    return this.#raw;
  }

  /**
   * How long a write waits for another process's lock. The server lowers it
   * once started: SQLite waits synchronously, so a long wait freezes every
   * request on the event loop (issue #12 item 3); failed writes retry later.
   */
  setBusyTimeout(ms: number): void {
    requireNonNegativeInteger("busyTimeoutMs", ms);
    this.#raw.exec(`PRAGMA busy_timeout = ${ms}`);
  }

  /**
   * Whether the file at `path` is no longer the one this connection has open
   * (deleted, or replaced by another file). SQLite keeps writing to the
   * unlinked file, so without this check history would vanish at the next
   * restart (issue #12 item 6). Always false for `:memory:`.
   */
  isFileReplaced(): boolean {
    if (this.#identity === undefined) return false;
    const now = fileIdentity(this.path);
    return now === undefined || now.dev !== this.#identity.dev || now.ino !== this.#identity.ino;
  }

  /**
   * Closes the connection and opens `path` again with the same pragmas, so
   * every holder of this `Db` writes to the file now at that path. The caller
   * migrates it. Not allowed inside a transaction.
   */
  reopen(): void {
    if (this.#depth > 0) throw new Error("Cannot reopen the database inside a transaction");
    if (this.#openOptions === undefined) {
      throw new Error("Cannot reopen the database: it was not opened by openDatabase()");
    }
    const next = openDatabase(this.#openOptions);
    const busy = Number(this.#pragmaValue("busy_timeout"));
    this.#statements.clear();
    if (this.#raw.isOpen) this.#raw.close();
    this.#raw = next.#raw;
    this.#identity = next.#identity;
    if (Number.isSafeInteger(busy)) this.setBusyTimeout(busy);
  }

  /** Whether the connection is still open. */
  get isOpen(): boolean {
    return this.raw.isOpen;
  }

  /** Whether a `transaction()` callback is running. */
  get inTransaction(): boolean {
    return this.#depth > 0;
  }

  /**
   * A prepared statement for `sql`, cached by its exact text. The same object is
   * returned to every caller, so finish iterating it before running that SQL again.
   */
  stmt(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.raw.prepare(sql);
      if (this.#statements.size >= STATEMENT_CACHE_MAX) {
        // Maps iterate in insertion order: drop the oldest entry.
        const oldest = this.#statements.keys().next().value;
        if (oldest !== undefined) this.#statements.delete(oldest);
      }
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs one or more statements without results (DDL, pragmas, migrations). */
  exec(sql: string): void {
    this.raw.exec(sql);
  }

  /**
   * Runs `fn` in a `BEGIN IMMEDIATE` transaction (plain `BEGIN` when read-only),
   * commits when it returns and rolls back when it throws. A nested call runs
   * inside the outer transaction under a savepoint, so its own failure undoes only
   * its writes. `fn` must be synchronous: awaiting inside would commit too early.
   */
  transaction<T>(fn: () => T): T {
    if (this.#depth > 0) return this.#nested(fn);
    this.raw.exec(this.readOnly ? "BEGIN" : "BEGIN IMMEDIATE");
    this.#depth = 1;
    try {
      const result = requireSync(fn());
      this.raw.exec("COMMIT");
      return result;
    } catch (error) {
      // SQLite rolls back by itself after some errors (full disk, I/O); don't mask the cause.
      if (this.raw.isTransaction) this.raw.exec("ROLLBACK");
      throw error;
    } finally {
      this.#depth = 0;
    }
  }

  #nested<T>(fn: () => T): T {
    const name = `eggpool_sp_${++this.#savepoints}`;
    this.raw.exec(`SAVEPOINT ${name}`);
    this.#depth++;
    try {
      const result = requireSync(fn());
      this.raw.exec(`RELEASE ${name}`);
      return result;
    } catch (error) {
      if (this.raw.isTransaction) {
        this.raw.exec(`ROLLBACK TO ${name}`);
        this.raw.exec(`RELEASE ${name}`);
      }
      throw error;
    } finally {
      this.#depth--;
    }
  }

  /** Closes the connection; later calls are no-ops. */
  close(): void {
    this.#statements.clear();
    if (this.raw.isOpen) this.raw.close();
  }

  /** Closes the connection at the end of a `using` scope. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `PRAGMA quick_check`: "ok", or the problems found joined by newlines. */
  quickCheck(): string {
    return this.#check("quick_check");
  }

  /** `PRAGMA integrity_check` (slower, also checks index contents): "ok" or the problems. */
  integrityCheck(): string {
    return this.#check("integrity_check");
  }

  #check(pragma: "quick_check" | "integrity_check"): string {
    const rows = this.raw.prepare(`PRAGMA ${pragma}`).all();
    return rows.map((row) => String(Object.values(row)[0])).join("\n");
  }

  /** Rebuilds the file to reclaim free pages. Operator-triggered only (`eggpool db vacuum`). */
  vacuum(): void {
    if (this.#depth > 0 || this.raw.isTransaction) {
      throw new Error("Cannot vacuum: a transaction is open");
    }
    this.raw.exec("VACUUM");
  }

  /** Copies WAL content into the database file (`PRAGMA wal_checkpoint`). */
  checkpoint(mode: CheckpointMode = "PASSIVE"): CheckpointResult {
    const row = this.raw.prepare(`PRAGMA wal_checkpoint(${mode})`).get() as
      | Record<string, number>
      | undefined;
    return {
      busy: (row?.busy ?? 0) !== 0,
      walFrames: row?.log ?? -1,
      checkpointedFrames: row?.checkpointed ?? -1,
    };
  }

  /** Lets SQLite refresh planner statistics where they are stale; cheap, meant for maintenance ticks. */
  optimize(): void {
    this.raw.exec("PRAGMA optimize");
  }

  /** Sizes of the database file and its `-wal` / `-shm` companions. */
  fileSizes(): DatabaseFileSizes {
    if (isMemoryPath(this.path)) return { dbBytes: 0, walBytes: 0, shmBytes: 0 };
    return {
      dbBytes: fileSize(this.path),
      walBytes: fileSize(`${this.path}-wal`),
      shmBytes: fileSize(`${this.path}-shm`),
    };
  }

  /** The settings SQLite actually applied (e.g. WAL silently stays off for `:memory:`). */
  settings(): DatabaseSettings {
    const journalMode = String(this.#pragmaValue("journal_mode"));
    const synchronous = SYNCHRONOUS_MODES[Number(this.#pragmaValue("synchronous"))] ?? "NORMAL";
    return {
      journalMode,
      synchronous,
      foreignKeys: Number(this.#pragmaValue("foreign_keys")) === 1,
      busyTimeoutMs: Number(this.#pragmaValue("busy_timeout")),
    };
  }

  #pragmaValue(name: string): unknown {
    const row = this.raw.prepare(`PRAGMA ${name}`).get();
    return row === undefined ? undefined : Object.values(row)[0];
  }
}

/** A file's device and inode numbers, or undefined when it is missing (or in memory). */
interface FileIdentity {
  dev: number;
  ino: number | null;
}

function fileIdentity(path: string): FileIdentity | undefined {
  if (isMemoryPath(path)) return undefined;
  try {
    const info = Deno.statSync(path);
    return { dev: info.dev, ino: info.ino };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

function requireSync<T>(value: T): T {
  if (value instanceof Promise) {
    // Swallow the orphaned promise's eventual rejection; the caller gets this error instead.
    value.catch(() => {});
    throw new TypeError("Cannot run an async callback in transaction(): it must be synchronous");
  }
  return value;
}

function fileSize(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
}
