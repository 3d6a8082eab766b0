/**
 * Throttles failed local-key checks per client IP (issue #12): without it a
 * loopback or LAN client could try about a thousand keys a second. Each
 * failure takes a token from the IP's bucket; an empty bucket refuses every
 * request from that IP that needs the key, right or wrong, until a token
 * comes back; otherwise a 429 against a 200 would tell a guess apart.
 * Operators learn of it from one log line per IP and minute, with counts;
 * the tried keys are never kept.
 */

/** Failures an IP may make in a burst before it is refused. */
export const AUTH_FAILURE_BURST = 20;
/** One failure is forgiven every this many ms (20 a minute once the burst is spent). */
export const AUTH_FAILURE_REFILL_MS = 3_000;
/** At most one log line per IP in this period. */
const REPORT_EVERY_MS = 60_000;
/** IPs tracked at once; past this the oldest full buckets, then the oldest entries, go. */
const MAX_TRACKED = 10_000;

interface Bucket {
  tokens: number;
  at: number;
  failures: number;
  refused: number;
  reportedAt: number;
}

/** Options for {@linkcode AuthThrottle}. */
export interface AuthThrottleOptions {
  clock: () => number;
  log: (message: string) => void;
  burst?: number;
  refillMs?: number;
}

/** The per-IP failed-auth buckets. */
export class AuthThrottle {
  readonly #buckets = new Map<string, Bucket>();
  readonly #clock: () => number;
  readonly #log: (message: string) => void;
  readonly #burst: number;
  readonly #refillMs: number;

  constructor(options: AuthThrottleOptions) {
    this.#clock = options.clock;
    this.#log = options.log;
    this.#burst = options.burst ?? AUTH_FAILURE_BURST;
    this.#refillMs = options.refillMs ?? AUTH_FAILURE_REFILL_MS;
  }

  /**
   * Seconds `ip` must wait before its key is checked again, or 0. Cheap when
   * no IP has failed recently: the hot path calls it on every request.
   */
  retryAfterS(ip: string | undefined): number {
    if (this.#buckets.size === 0) return 0;
    const b = this.#buckets.get(ip ?? "");
    if (b === undefined) return 0;
    const now = this.#clock();
    this.#refill(b, now);
    if (b.tokens >= this.#burst) this.#buckets.delete(ip ?? "");
    if (b.tokens >= 1) return 0;
    b.refused++;
    this.#report(ip ?? "unknown", b, now);
    return Math.max(1, Math.ceil(((1 - b.tokens) * this.#refillMs) / 1000));
  }

  /** Counts one failed key check from `ip`. */
  fail(ip: string | undefined): void {
    const key = ip ?? "";
    const now = this.#clock();
    let b = this.#buckets.get(key);
    if (b === undefined) {
      if (this.#buckets.size >= MAX_TRACKED) this.#prune(now);
      b = { tokens: this.#burst, at: now, failures: 0, refused: 0, reportedAt: -Infinity };
      this.#buckets.set(key, b);
    } else {
      this.#refill(b, now);
    }
    b.tokens = Math.max(0, b.tokens - 1);
    b.failures++;
    if (b.tokens < 1) this.#report(ip ?? "unknown", b, now);
  }

  #refill(b: Bucket, now: number): void {
    if (now <= b.at) return;
    b.tokens = Math.min(this.#burst, b.tokens + (now - b.at) / this.#refillMs);
    b.at = now;
  }

  #report(ip: string, b: Bucket, now: number): void {
    if (now - b.reportedAt < REPORT_EVERY_MS) return;
    b.reportedAt = now;
    this.#log(
      `Failed API key checks from ${ip}: ${b.failures} failed, ${b.refused} refused with 429 ` +
        `since the last report; requests needing the key from this address are refused ` +
        `until the rate falls below ${Math.round(60_000 / this.#refillMs)} a minute`,
    );
    b.failures = 0;
    b.refused = 0;
  }

  #prune(now: number): void {
    for (const [ip, b] of this.#buckets) {
      this.#refill(b, now);
      if (b.tokens >= this.#burst) this.#buckets.delete(ip);
    }
    for (const ip of this.#buckets.keys()) {
      if (this.#buckets.size < MAX_TRACKED) break;
      this.#buckets.delete(ip);
    }
  }
}
