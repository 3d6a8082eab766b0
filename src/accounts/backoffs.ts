/**
 * Backoffs (spec 03 §9–§10): how long an account, or one of its models, rests
 * after a failed attempt, kept in memory for routing and mirrored to storage
 * through {@linkcode BackoffStore} so a restart remembers them.
 */
import type { Failure, FailureClass } from "../routing/classify.ts";
import { MAX_COOLDOWN_MS } from "../routing/classify.ts";

/** Persisted suppression reasons (the `account_backoffs.reason` check constraint). */
export type BackoffReason =
  | "authentication_failed"
  | "quota_exhausted"
  | "rate_limited"
  | "upstream_server_error"
  | "connect_timeout"
  | "connection_failure"
  | "protocol_error"
  | "model_unavailable";

/** Every reason, for validating rows read back from storage. */
export const BACKOFF_REASONS: ReadonlySet<BackoffReason> = new Set<BackoffReason>([
  "authentication_failed",
  "quota_exhausted",
  "rate_limited",
  "upstream_server_error",
  "connect_timeout",
  "connection_failure",
  "protocol_error",
  "model_unavailable",
]);

/** Transient failures escalate ×2 per consecutive failure, at most this many doublings. */
const MAX_DOUBLINGS = 6;

/** One suppression. */
export interface BackoffEntry {
  accountName: string;
  /** Set for model-scoped rows (`model_unavailable`); undefined = the whole account. */
  modelId?: string;
  reason: BackoffReason;
  /** Undefined = until the credential changes (`authentication_failed`). */
  untilMs: number | undefined;
  statusCode?: number;
  errorClass?: string;
  consecutiveFailures: number;
  firstFailureAt: number;
  lastFailureAt: number;
}

/** Where backoffs are persisted; storage implements it (`storage/backoffs_repo.ts`). */
export interface BackoffStore {
  /** Upserts the row for (account, model or none, reason). */
  save(entry: BackoffEntry): void;
  /** Deletes every non-auth row of the account that is account-wide or for `modelId`. */
  clearOnSuccess(accountName: string, modelId: string): void;
  /** Deletes the account's `authentication_failed` rows. */
  clearAuth(accountName: string): void;
}

/** The backoff reason of a failure class; undefined = the failure rests nothing. */
export function backoffReasonOf(cls: FailureClass): BackoffReason | undefined {
  switch (cls) {
    case "rate_limited":
      return "rate_limited";
    case "quota_exhausted":
      return "quota_exhausted";
    case "auth_failed":
      return "authentication_failed";
    case "model_unavailable":
      return "model_unavailable";
    case "overloaded":
    case "server_error":
      return "upstream_server_error";
    case "timeout":
      return "connect_timeout";
    case "transport":
      return "connection_failure";
    case "client_error":
    case "pool_timeout":
      return undefined;
  }
}

/** Transient reasons back off exponentially; the others use the failure's own delay. */
function isTransient(reason: BackoffReason): boolean {
  return reason === "upstream_server_error" || reason === "connect_timeout" ||
    reason === "connection_failure" || reason === "protocol_error";
}

/**
 * How long to rest after the `consecutive`-th failure of this kind:
 * undefined for auth (terminal); Retry-After / the quota cooldown as given;
 * transient failures `base × 2^(n−1)`; never more than 30 minutes.
 */
export function backoffDelayMs(
  reason: BackoffReason,
  options: { baseMs: number | undefined; consecutive: number },
): number | undefined {
  if (reason === "authentication_failed") return undefined;
  const { consecutive } = options;
  const base = Math.max(0, options.baseMs ?? 0);
  const factor = isTransient(reason)
    ? 2 ** Math.min(MAX_DOUBLINGS, Math.max(0, consecutive - 1))
    : 1;
  return Math.min(MAX_COOLDOWN_MS, base * factor);
}

/** Options for {@linkcode BackoffBook}. */
export interface BackoffBookOptions {
  clock: () => number;
  store?: BackoffStore;
  /** Storage failures are logged and otherwise ignored: routing keeps working. */
  log?: (message: string) => void;
}

/** The account's rows: account-wide by reason, and per model by reason. */
interface AccountBackoffs {
  wide: Map<BackoffReason, BackoffEntry>;
  byModel: Map<string, Map<BackoffReason, BackoffEntry>>;
}

function isActive(e: BackoffEntry, now: number): boolean {
  return e.untilMs === undefined || e.untilMs > now;
}

/** Active, or lapsed recently enough that the next failure continues its streak. */
function streakOpen(e: BackoffEntry, now: number): boolean {
  return e.untilMs === undefined || now - e.untilMs < MAX_COOLDOWN_MS;
}

const NOTHING_CLEARED: readonly BackoffEntry[] = [];

/** Failed backoff writes kept for retry; past this the oldest go (the state in memory stays). */
const MAX_UNSAVED = 1_000;

/** The tighter of two blocking entries: terminal beats timed, later beats sooner. */
function tighter(a: BackoffEntry | undefined, b: BackoffEntry): BackoffEntry {
  if (a === undefined) return b;
  if (a.untilMs === undefined) return a;
  if (b.untilMs === undefined) return b;
  return b.untilMs > a.untilMs ? b : a;
}

/** In-memory backoffs with write-through persistence. */
export class BackoffBook {
  readonly #clock: () => number;
  readonly #store?: BackoffStore;
  readonly #log: (message: string) => void;
  readonly #accounts = new Map<string, AccountBackoffs>();
  readonly #unsaved: Array<{ what: string; fn: (store: BackoffStore) => void }> = [];
  #failing = false;
  #dropped = 0;

  constructor(options: BackoffBookOptions) {
    this.#clock = options.clock;
    this.#store = options.store;
    this.#log = options.log ?? (() => {});
  }

  /**
   * Writes `fn` through to the store. A write that fails (a locked or full
   * database) is kept, in order, and retried before the next write and by
   * {@linkcode retryUnsaved}, so a restart after the lock clears still knows
   * the backoff. Only the first failure of a streak is logged.
   */
  #persist(what: string, fn: (store: BackoffStore) => void): void {
    if (this.#store === undefined) return;
    if (this.#unsaved.length >= MAX_UNSAVED) {
      this.#unsaved.shift();
      this.#dropped++;
    }
    this.#unsaved.push({ what, fn });
    this.retryUnsaved();
  }

  /** Retries the writes that failed, oldest first; returns how many are still waiting. */
  retryUnsaved(): number {
    const store = this.#store;
    if (store === undefined) return 0;
    while (this.#unsaved.length > 0) {
      const next = this.#unsaved[0];
      try {
        next.fn(store);
      } catch (error) {
        if (!this.#failing) {
          this.#failing = true;
          this.#log(
            `Cannot ${next.what}: ${
              error instanceof Error ? error.message : String(error)
            }; keeping it to retry`,
          );
        }
        return this.#unsaved.length;
      }
      this.#unsaved.shift();
    }
    if (this.#failing) {
      this.#failing = false;
      const lost = this.#dropped > 0 ? ` (${this.#dropped} oldest changes dropped)` : "";
      this.#dropped = 0;
      this.#log(`Backoff changes saved again${lost}`);
    }
    return 0;
  }

  #slot(accountName: string, modelId: string | undefined): Map<BackoffReason, BackoffEntry> {
    let acc = this.#accounts.get(accountName);
    if (acc === undefined) {
      acc = { wide: new Map(), byModel: new Map() };
      this.#accounts.set(accountName, acc);
    }
    if (modelId === undefined) return acc.wide;
    let m = acc.byModel.get(modelId);
    if (m === undefined) {
      m = new Map();
      acc.byModel.set(modelId, m);
    }
    return m;
  }

  /**
   * Loads rows restored from storage (already filtered by the repository),
   * clamping deadlines to at most 30 minutes ahead. Not written back.
   */
  restore(entries: Iterable<BackoffEntry>): void {
    const now = this.#clock();
    for (const e of entries) {
      if (e.reason === "model_unavailable" && e.modelId === undefined) continue;
      if (e.untilMs !== undefined && e.untilMs <= now) continue;
      const untilMs = e.untilMs === undefined
        ? undefined
        : Math.min(e.untilMs, now + MAX_COOLDOWN_MS);
      this.#slot(e.accountName, e.modelId).set(e.reason, { ...e, untilMs });
    }
  }

  /**
   * Records a failed attempt; returns the entry written, or undefined when
   * the failure rests nothing (client errors). Only `model_unavailable` is
   * scoped to `modelId`; everything else rests the whole account.
   */
  record(accountName: string, failure: Failure, modelId?: string): BackoffEntry | undefined {
    const reason = backoffReasonOf(failure.class);
    if (reason === undefined) return undefined;
    const now = this.#clock();
    const scope = reason === "model_unavailable" ? modelId : undefined;
    if (reason === "model_unavailable" && scope === undefined) return undefined;
    const slot = this.#slot(accountName, scope);
    const prior = slot.get(reason);
    // A row long past its deadline no longer counts as a streak.
    const continues = prior !== undefined && streakOpen(prior, now);
    const consecutive = continues ? prior.consecutiveFailures + 1 : 1;
    const delay = backoffDelayMs(reason, { baseMs: failure.cooldownMs, consecutive });
    const entry: BackoffEntry = {
      accountName,
      modelId: scope,
      reason,
      untilMs: delay === undefined ? undefined : now + delay,
      statusCode: failure.statusCode,
      errorClass: failure.errorClass.slice(0, 128),
      consecutiveFailures: consecutive,
      firstFailureAt: continues ? prior.firstFailureAt : now,
      lastFailureAt: now,
    };
    slot.set(reason, entry);
    this.#persist("save a backoff", (s) => s.save(entry));
    return entry;
  }

  /**
   * A success clears the account's non-auth rows that are account-wide or for
   * `modelId`. Returns the account-wide rows it cleared (lapsed ones included:
   * their streak ends here), so the caller can tell a recovery.
   */
  clearOnSuccess(accountName: string, modelId: string): readonly BackoffEntry[] {
    const acc = this.#accounts.get(accountName);
    if (acc === undefined) return NOTHING_CLEARED;
    let cleared = false;
    const wide: BackoffEntry[] = [];
    for (const [reason, entry] of [...acc.wide]) {
      if (reason === "authentication_failed") continue;
      acc.wide.delete(reason);
      wide.push(entry);
      cleared = true;
    }
    const m = acc.byModel.get(modelId);
    if (m !== undefined) {
      for (const reason of [...m.keys()]) {
        if (reason === "authentication_failed") continue;
        m.delete(reason);
        cleared = true;
      }
      if (m.size === 0) acc.byModel.delete(modelId);
    }
    if (acc.wide.size === 0 && acc.byModel.size === 0) this.#accounts.delete(accountName);
    // Only touch the disk when something was there: successes are the common case.
    if (cleared) this.#persist("clear backoffs", (s) => s.clearOnSuccess(accountName, modelId));
    return wide;
  }

  /** The credential changed: the account may try again. Returns the lifted row, if any. */
  clearAuth(accountName: string): BackoffEntry | undefined {
    const acc = this.#accounts.get(accountName);
    const entry = acc?.wide.get("authentication_failed");
    if (entry !== undefined && acc!.wide.delete("authentication_failed")) {
      this.#persist("clear an auth backoff", (s) => s.clearAuth(accountName));
    }
    return entry;
  }

  /**
   * The account's account-wide rows that no success has cleared yet and whose
   * streak is still open (active, or lapsed less than 30 minutes ago): what
   * the account's health shows, since a lapsed 429 still says how the
   * upstream last answered.
   */
  unresolved(accountName: string, now: number = this.#clock()): BackoffEntry[] {
    const acc = this.#accounts.get(accountName);
    if (acc === undefined) return [];
    const out: BackoffEntry[] = [];
    for (const e of acc.wide.values()) if (streakOpen(e, now)) out.push(e);
    return out;
  }

  /** The entry keeping the account from serving `modelId` now, if any (the tightest one). */
  blocking(accountName: string, modelId: string, now: number): BackoffEntry | undefined {
    if (this.#accounts.size === 0) return undefined;
    const acc = this.#accounts.get(accountName);
    if (acc === undefined) return undefined;
    let found: BackoffEntry | undefined;
    for (const e of acc.wide.values()) if (isActive(e, now)) found = tighter(found, e);
    const m = acc.byModel.get(modelId);
    if (m !== undefined) {
      for (const e of m.values()) if (isActive(e, now)) found = tighter(found, e);
    }
    return found;
  }

  /** Active rows, optionally of one account (for `/api/backoffs` and status). */
  list(now: number = this.#clock(), accountName?: string): BackoffEntry[] {
    const out: BackoffEntry[] = [];
    const names = accountName === undefined ? [...this.#accounts.keys()] : [accountName];
    for (const name of names) {
      const acc = this.#accounts.get(name);
      if (acc === undefined) continue;
      for (const e of acc.wide.values()) if (isActive(e, now)) out.push(e);
      for (const m of acc.byModel.values()) {
        for (const e of m.values()) if (isActive(e, now)) out.push(e);
      }
    }
    return out.sort((a, b) =>
      a.accountName.localeCompare(b.accountName) ||
      (a.modelId ?? "").localeCompare(b.modelId ?? "") ||
      a.reason.localeCompare(b.reason)
    );
  }
}
