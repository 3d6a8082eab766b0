/**
 * Notices when the database file is deleted or replaced under a running
 * server (issue #12 item 6). SQLite keeps writing to the file it has open, so
 * without this everything written after the deletion vanishes at the next
 * restart. On the maintenance tick the file's device and inode are compared
 * with the open connection's; on a change the server reopens the path (a
 * fresh, migrated file), re-creates its provider and account rows, records a
 * `database_file_replaced` event there, and reports a problem in
 * `runtime-status` and `/v1/readyz` until it is restarted, because the
 * history before the change is no longer in the file it serves from.
 */
import type { Db } from "../storage/db.ts";
import { migrate } from "../storage/migrate.ts";
import { MIGRATIONS } from "../storage/migrations.ts";
import { insertOperationalEvent } from "../storage/requests_repo.ts";
import type { TaskBoard } from "./tasks.ts";

/** What {@linkcode watchDatabaseFile} needs. */
export interface DbFileWatchOptions {
  db: Db;
  tasks: TaskBoard;
  intervalMs: number;
  clock: () => number;
  log: (message: string) => void;
  /** Re-creates the rows a fresh file needs (providers, accounts) before stats land in it. */
  resync: (db: Db) => void;
}

/** A running watch. */
export interface DbFileWatch {
  /** The problem to report, once the file was found replaced; undefined before. */
  problem(): string | undefined;
  /** Checks now (the timer calls this). */
  check(): void;
  stop(): void;
}

/** Starts checking the database file every `intervalMs`. */
export function watchDatabaseFile(options: DbFileWatchOptions): DbFileWatch {
  const { db, tasks, clock, log } = options;
  let problem: string | undefined;
  tasks.define("database_file_check", {
    label: "Database file check",
    intervalMs: options.intervalMs,
  });
  const check = () =>
    tasks.run("database_file_check", () => {
      if (!db.isOpen || !db.isFileReplaced()) return;
      const at = new Date(clock()).toISOString();
      problem = `the database file ${db.path} was deleted or replaced while running ` +
        `(noticed ${at}); history written before then is not in the current file. ` +
        `Restore it from a backup if needed, then restart EggPool to clear this`;
      log(`Database file ${db.path} was deleted or replaced; writing to a fresh file from now on`);
      db.reopen();
      migrate(db, MIGRATIONS, { clock });
      options.resync(db);
      insertOperationalEvent(
        db,
        "database_file_replaced",
        { path: db.path, noticedAt: at },
        clock(),
      );
    });
  const timer = setInterval(check, options.intervalMs);
  Deno.unrefTimer(timer);
  return {
    problem: () => problem,
    check,
    stop: () => clearInterval(timer),
  };
}
