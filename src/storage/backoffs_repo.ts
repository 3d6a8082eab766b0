/**
 * SQL for `account_backoffs` (spec 03 §9.2): the write-through store behind
 * the in-memory backoff book, and the startup read that restores it.
 */
import type { Db } from "./db.ts";
import type { BackoffEntry, BackoffReason, BackoffStore } from "../accounts/backoffs.ts";
import { BACKOFF_REASONS } from "../accounts/backoffs.ts";

// The account's current credential fingerprint is copied onto the row, so an
// auth row can later be recognised as belonging to a replaced key.
const UPSERT = `INSERT INTO account_backoffs (
  account_id, model_id, reason, status_code, error_class, consecutive_failures, backoff_until,
  credential_fingerprint, first_failure_at, last_failure_at
)
SELECT id, ?, ?, ?, ?, ?, ?, credential_fingerprint, ?, ? FROM accounts WHERE name = ?
ON CONFLICT (account_id, ifnull(model_id, ''), reason) DO UPDATE SET
  status_code = excluded.status_code,
  error_class = excluded.error_class,
  consecutive_failures = excluded.consecutive_failures,
  backoff_until = excluded.backoff_until,
  credential_fingerprint = excluded.credential_fingerprint,
  last_failure_at = excluded.last_failure_at`;

const CLEAR_ON_SUCCESS = `DELETE FROM account_backoffs
WHERE account_id = (SELECT id FROM accounts WHERE name = ?)
  AND reason <> 'authentication_failed'
  AND (model_id IS NULL OR model_id = ?)`;

const CLEAR_AUTH = `DELETE FROM account_backoffs
WHERE account_id = (SELECT id FROM accounts WHERE name = ?) AND reason = 'authentication_failed'`;

/** The {@linkcode BackoffStore} backed by `account_backoffs`. */
export function createBackoffStore(db: Db): BackoffStore {
  return {
    save(e: BackoffEntry): void {
      db.stmt(UPSERT).run(
        e.modelId ?? null,
        e.reason,
        e.statusCode ?? null,
        e.errorClass ?? null,
        e.consecutiveFailures,
        e.untilMs === undefined ? null : Math.round(e.untilMs),
        e.firstFailureAt,
        e.lastFailureAt,
        e.accountName,
      );
    },
    clearOnSuccess(accountName: string, modelId: string): void {
      db.stmt(CLEAR_ON_SUCCESS).run(accountName, modelId);
    },
    clearAuth(accountName: string): void {
      db.stmt(CLEAR_AUTH).run(accountName);
    },
  };
}

/** What {@linkcode loadBackoffs} found and cleaned up. */
export interface LoadedBackoffs {
  entries: BackoffEntry[];
  /** Auth rows dropped because the account's credential changed since. */
  clearedAuth: number;
  /** Rows past their deadline (or malformed) that were deleted. */
  deleted: number;
}

/**
 * Startup hydration (spec 03 §9.2, 09-decisions): deletes expired rows,
 * account-wide `model_unavailable` rows and auth rows whose credential
 * fingerprint no longer matches the account's, then returns the rest for
 * enabled accounts. Run after the accounts were synced from the config.
 */
export function loadBackoffs(db: Db, now: number): LoadedBackoffs {
  return db.transaction(() => {
    const auth = db.stmt(
      `DELETE FROM account_backoffs
       WHERE reason = 'authentication_failed'
         AND credential_fingerprint IS NOT
           (SELECT a.credential_fingerprint FROM accounts a WHERE a.id = account_backoffs.account_id)`,
    ).run();
    const expired = db.stmt(
      `DELETE FROM account_backoffs
       WHERE (backoff_until IS NOT NULL AND backoff_until <= ?)
          OR (reason = 'model_unavailable' AND model_id IS NULL)`,
    ).run(now);
    const rows = db.stmt(
      `SELECT a.name AS account_name, b.model_id, b.reason, b.status_code, b.error_class,
         b.consecutive_failures, b.backoff_until, b.first_failure_at, b.last_failure_at
       FROM account_backoffs b JOIN accounts a ON a.id = b.account_id
       WHERE a.enabled = 1
       ORDER BY b.id`,
    ).all();
    const entries: BackoffEntry[] = [];
    for (const r of rows) {
      const reason = String(r.reason) as BackoffReason;
      if (!BACKOFF_REASONS.has(reason)) continue;
      entries.push({
        accountName: String(r.account_name),
        modelId: r.model_id === null ? undefined : String(r.model_id),
        reason,
        untilMs: r.backoff_until === null ? undefined : Number(r.backoff_until),
        statusCode: r.status_code === null ? undefined : Number(r.status_code),
        errorClass: r.error_class === null ? undefined : String(r.error_class),
        consecutiveFailures: Number(r.consecutive_failures),
        firstFailureAt: Number(r.first_failure_at),
        lastFailureAt: Number(r.last_failure_at),
      });
    }
    return {
      entries,
      clearedAuth: Number(auth.changes),
      deleted: Number(expired.changes),
    };
  });
}
