/**
 * Rolling quota windows per account (spec 03 §5): requests, tokens and
 * microdollar spend over the last 5 hours, 7 days and 30 days. Each window is
 * a ring of fixed-width buckets with running sums, so recording a request and
 * reading a window are both O(1) (amortized over bucket turnover).
 */

/** One rolling window: its span and how finely it slides. */
export interface WindowSpec {
  readonly name: WindowName;
  readonly spanMs: number;
  /** Buckets in the ring; the window slides in steps of `spanMs / buckets`. */
  readonly buckets: number;
}

/** The three windows the scorer and `[limits]` use. */
export type WindowName = "5h" | "7d" | "30d";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The windows, shortest first. Bucket counts trade precision for memory:
 * 5-minute steps for 5 h, 2-hour steps for 7 d, 12-hour steps for 30 d
 * (about 5 KB per account in all).
 */
export const WINDOWS: readonly WindowSpec[] = [
  { name: "5h", spanMs: 5 * HOUR_MS, buckets: 60 },
  { name: "7d", spanMs: 7 * DAY_MS, buckets: 84 },
  { name: "30d", spanMs: 30 * DAY_MS, buckets: 60 },
];

/** Longest window span: rebuilding from storage needs rows no older than this. */
export const LONGEST_WINDOW_MS = 30 * DAY_MS;

/** Numbers per bucket: requests, tokens, cost in microdollars. */
const DIMS = 3;

/** Size of the buffer {@linkcode QuotaWindows.fill} writes: 3 numbers × 3 windows. */
export const USAGE_BUFFER_LENGTH = 9;

/** Totals of one window. */
export interface WindowTotals {
  requests: number;
  tokens: number;
  costMicros: number;
}

/** Totals of every window, keyed by name. */
export type WindowUsage = Readonly<Record<WindowName, WindowTotals>>;

/** One finalized request as the windows count it. */
export interface UsageObservation {
  /** When the request started (ms); it counts in the bucket of this instant. */
  at: number;
  /** Input + output + cache read + cache write tokens. */
  tokens: number;
  costMicros: number;
  /** Defaults to 1; rebuilt rollup rows carry their own count. */
  requests?: number;
}

/** A fixed-width bucket ring with running sums. */
class Ring {
  readonly #widthMs: number;
  readonly #n: number;
  readonly #slots: Float64Array;
  /** Sums over the live buckets: requests, tokens, cost. */
  readonly sums = new Float64Array(DIMS);
  /** Absolute index of the newest bucket; -1 before the first observation. */
  #head = -1;

  constructor(spec: WindowSpec) {
    this.#n = spec.buckets;
    this.#widthMs = spec.spanMs / spec.buckets;
    this.#slots = new Float64Array(spec.buckets * DIMS);
  }

  /** Moves the head to `bucket`, zeroing buckets that fell out of the window. */
  #advance(bucket: number): void {
    if (bucket <= this.#head) return;
    const steps = bucket - this.#head;
    if (this.#head < 0 || steps >= this.#n) {
      this.#slots.fill(0);
      this.sums.fill(0);
    } else {
      for (let k = this.#head + 1; k <= bucket; k++) {
        const i = (k % this.#n) * DIMS;
        for (let d = 0; d < DIMS; d++) {
          this.sums[d] -= this.#slots[i + d];
          this.#slots[i + d] = 0;
        }
      }
    }
    this.#head = bucket;
  }

  add(at: number, requests: number, tokens: number, costMicros: number): void {
    const bucket = Math.floor(at / this.#widthMs);
    this.#advance(bucket);
    // Too old for this window (a late finalization or an old rollup row).
    if (bucket <= this.#head - this.#n) return;
    const i = (bucket % this.#n) * DIMS;
    this.#slots[i] += requests;
    this.#slots[i + 1] += tokens;
    this.#slots[i + 2] += costMicros;
    this.sums[0] += requests;
    this.sums[1] += tokens;
    this.sums[2] += costMicros;
  }

  reset(): void {
    this.#slots.fill(0);
    this.sums.fill(0);
    this.#head = -1;
  }

  /** Sums as of `now`. */
  read(now: number): Float64Array {
    this.#advance(Math.floor(now / this.#widthMs));
    return this.sums;
  }
}

/** One account's three rings; pools may keep a reference (it survives `rebuild`). */
export class AccountWindows {
  readonly #rings = WINDOWS.map((w) => new Ring(w));

  /** Counts one observation in every window. */
  add(observation: UsageObservation): void {
    const requests = observation.requests ?? 1;
    const tokens = Math.max(0, observation.tokens);
    const cost = Math.max(0, observation.costMicros);
    for (const ring of this.#rings) ring.add(observation.at, requests, tokens, cost);
  }

  /** Writes `[req, tok, cost]` per window into `out` (see {@linkcode QuotaWindows.fill}). */
  fill(now: number, out: Float64Array): void {
    const rings = this.#rings;
    for (let w = 0, k = 0; w < rings.length; w++, k += DIMS) {
      const sums = rings[w].read(now);
      out[k] = sums[0];
      out[k + 1] = sums[1];
      out[k + 2] = sums[2];
    }
  }

  reset(): void {
    for (const ring of this.#rings) ring.reset();
  }
}

/** Options for {@linkcode QuotaWindows}. */
export interface QuotaWindowsOptions {
  clock: () => number;
}

/** Per-account rolling windows, kept in memory and rebuilt from storage at startup. */
export class QuotaWindows {
  readonly #clock: () => number;
  readonly #byAccount = new Map<string, AccountWindows>();

  constructor(options: QuotaWindowsOptions) {
    this.#clock = options.clock;
  }

  /** The account's windows, created empty on first use; the object stays valid for good. */
  of(account: string): AccountWindows {
    let w = this.#byAccount.get(account);
    if (w === undefined) {
      w = new AccountWindows();
      this.#byAccount.set(account, w);
    }
    return w;
  }

  /** Counts one finalized request (or a rollup row) against an account. */
  observe(account: string, observation: UsageObservation): void {
    this.of(account).add(observation);
  }

  /** Forgets everything and replays `rows` (startup rebuild from SQLite rollups). */
  rebuild(rows: Iterable<{ accountName: string } & UsageObservation>): void {
    for (const w of this.#byAccount.values()) w.reset();
    for (const row of rows) this.observe(row.accountName, row);
  }

  /**
   * Writes the account's totals into `out` as
   * `[req5h, tok5h, cost5h, req7d, tok7d, cost7d, req30d, tok30d, cost30d]`.
   * Allocation-free, for the scorer's hot path.
   */
  fill(account: string, now: number, out: Float64Array): void {
    const w = this.#byAccount.get(account);
    if (w === undefined) out.fill(0, 0, USAGE_BUFFER_LENGTH);
    else w.fill(now, out);
  }

  /** The account's totals per window, as of `now` (default: the clock). */
  usage(account: string, now: number = this.#clock()): WindowUsage {
    const buf = new Float64Array(USAGE_BUFFER_LENGTH);
    this.fill(account, now, buf);
    const totals = (w: number): WindowTotals => ({
      requests: buf[w * DIMS],
      tokens: buf[w * DIMS + 1],
      costMicros: buf[w * DIMS + 2],
    });
    return { "5h": totals(0), "7d": totals(1), "30d": totals(2) };
  }

  /** Accounts with any recorded usage. */
  accounts(): string[] {
    const out: string[] = [];
    const probe = new Float64Array(USAGE_BUFFER_LENGTH);
    for (const [name, w] of this.#byAccount) {
      w.fill(this.#clock(), probe);
      if (probe[6] > 0) out.push(name);
    }
    return out;
  }
}
