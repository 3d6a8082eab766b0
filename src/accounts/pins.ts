/**
 * Conversation pins for prompt-cache affinity (issue #5): conversation key →
 * the account that serves it, with an idle expiry, live-pin counts per
 * account (the placement penalty reads them) and a count of moves by reason.
 * The book holds at most `maxPins`: every new conversation adds a pin, and a
 * client that starts thousands an hour would otherwise grow the heap until
 * the idle expiry caught up (issue #12); past the cap the least recently used
 * pin goes, and is counted.
 * Pure: time comes from the injected clock, persistence through
 * {@linkcode PinStore}.
 */

/** One conversation's pin. */
export interface Pin {
  /** Hash of the conversation key (`routing/session_key.ts`). */
  key: string;
  account: string;
  providerId: string;
  /** The model of the latest turn. */
  modelId: string;
  createdAt: number;
  lastUsedAt: number;
  /** Turns served under this pin, the first included. */
  turns: number;
}

/** Why a conversation left its account: a failure class, or the exclusion that hid the account. */
export type MoveReason = string;

/** Write-behind persistence: both calls must be cheap (buffer now, write later). */
export interface PinStore {
  save(pin: Pin): void;
  remove(key: string): void;
}

/** Options for {@linkcode PinBook}. */
export interface PinBookOptions {
  clock: () => number;
  /** `[routing].affinity_idle_s` in ms: a pin unused this long is forgotten. */
  idleMs: number;
  /** `[routing].affinity_max_pins`; unlimited when absent. */
  maxPins?: number;
  store?: PinStore;
}

/** Where a conversation should go now. */
export interface PinTarget {
  account: string;
  providerId: string;
  modelId: string;
}

/** The live pins and their per-account tallies. */
export class PinBook {
  /** In least-recently-used order: a pin is re-inserted whenever it is used. */
  readonly #pins = new Map<string, Pin>();
  readonly #live = new Map<string, number>();
  readonly #moves = new Map<string, Map<MoveReason, number>>();
  readonly #movesByModel = new Map<string, Map<MoveReason, number>>();
  readonly #clock: () => number;
  readonly #idleMs: number;
  readonly #store?: PinStore;
  readonly #maxPins: number;
  #evictions = 0;

  constructor(options: PinBookOptions) {
    this.#clock = options.clock;
    this.#idleMs = options.idleMs;
    this.#maxPins = options.maxPins ?? Infinity;
    this.#store = options.store;
  }

  /** Moves `pin` to the most recently used end. */
  #use(pin: Pin): void {
    this.#pins.delete(pin.key);
    this.#pins.set(pin.key, pin);
  }

  /** Drops least recently used pins until the book is within its cap; a live one counts as evicted. */
  #trim(): void {
    if (this.#pins.size <= this.#maxPins) return;
    const now = this.#clock();
    for (const pin of this.#pins.values()) {
      if (this.#pins.size <= this.#maxPins) break;
      if (!this.#isExpired(pin, now)) this.#evictions++;
      this.#drop(pin);
    }
  }

  #isExpired(pin: Pin, now: number): boolean {
    return now - pin.lastUsedAt >= this.#idleMs;
  }

  #count(account: string, delta: number): void {
    const n = (this.#live.get(account) ?? 0) + delta;
    if (n > 0) this.#live.set(account, n);
    else this.#live.delete(account);
  }

  #drop(pin: Pin): void {
    this.#pins.delete(pin.key);
    this.#count(pin.account, -1);
    this.#store?.remove(pin.key);
  }

  /** The live pin of `key`; an expired one is forgotten on the way. */
  get(key: string): Pin | undefined {
    const pin = this.#pins.get(key);
    if (pin === undefined) return undefined;
    if (!this.#isExpired(pin, this.#clock())) return pin;
    this.#drop(pin);
    return undefined;
  }

  /** Pins a new conversation (its first turn). Replaces any expired pin of the key. */
  pin(key: string, target: PinTarget): Pin {
    const old = this.#pins.get(key);
    if (old !== undefined) this.#drop(old);
    const now = this.#clock();
    const pin: Pin = { key, ...target, createdAt: now, lastUsedAt: now, turns: 1 };
    this.#pins.set(key, pin);
    this.#count(pin.account, 1);
    this.#store?.save(pin);
    this.#trim();
    return pin;
  }

  /** Counts one more turn on the pin's account. */
  touch(pin: Pin, modelId: string): void {
    pin.lastUsedAt = this.#clock();
    pin.turns++;
    pin.modelId = modelId;
    this.#use(pin);
    this.#store?.save(pin);
  }

  /** Re-pins a conversation to `target`, counting the move against the account it left (not a turn). */
  move(pin: Pin, target: PinTarget, reason: MoveReason): void {
    const from = pin.account;
    const byReason = this.#moves.get(from) ?? new Map<MoveReason, number>();
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    this.#moves.set(from, byReason);
    const byModel = this.#movesByModel.get(pin.modelId) ?? new Map<MoveReason, number>();
    byModel.set(reason, (byModel.get(reason) ?? 0) + 1);
    this.#movesByModel.set(pin.modelId, byModel);
    this.#count(from, -1);
    this.#count(target.account, 1);
    pin.account = target.account;
    pin.providerId = target.providerId;
    pin.modelId = target.modelId;
    pin.lastUsedAt = this.#clock();
    this.#use(pin);
    this.#store?.save(pin);
  }

  /** Live pins on `account` (expired pins count until the next sweep or lookup). */
  liveCount(account: string): number {
    return this.#live.get(account) ?? 0;
  }

  /** Moves away from `account` by reason. */
  movesFrom(account: string): Record<MoveReason, number> {
    return Object.fromEntries(this.#moves.get(account) ?? []);
  }

  /** Moves of conversations on `modelId` by reason. */
  movesOfModel(modelId: string): Record<MoveReason, number> {
    return Object.fromEntries(this.#movesByModel.get(modelId) ?? []);
  }

  /** Total moves by reason, all accounts. */
  movesByReason(): Record<MoveReason, number> {
    const out: Record<MoveReason, number> = {};
    for (const byReason of this.#moves.values()) {
      for (const [reason, n] of byReason) out[reason] = (out[reason] ?? 0) + n;
    }
    return out;
  }

  /** Forgets every expired pin; returns how many. */
  sweep(): number {
    const now = this.#clock();
    let n = 0;
    for (const pin of this.#pins.values()) {
      if (!this.#isExpired(pin, now)) continue;
      this.#drop(pin);
      n++;
    }
    return n;
  }

  /** Live pins, most recently used first. */
  list(): Pin[] {
    this.sweep();
    return [...this.#pins.values()].sort((a, b) => b.lastUsedAt - a.lastUsedAt);
  }

  /**
   * Restores pins loaded at startup (expired ones skipped, not written back).
   * Over the cap (a smaller `affinity_max_pins` than last run), the least
   * recently used are evicted and deleted from the store.
   */
  restore(pins: Iterable<Pin>): void {
    const now = this.#clock();
    const live = [...pins].filter((p) => !this.#isExpired(p, now) && !this.#pins.has(p.key));
    live.sort((a, b) => a.lastUsedAt - b.lastUsedAt);
    for (const pin of live) {
      if (this.#pins.has(pin.key)) continue;
      this.#pins.set(pin.key, { ...pin });
      this.#count(pin.account, 1);
    }
    this.#trim();
  }

  get size(): number {
    return this.#pins.size;
  }

  /** Live pins dropped to keep the book within `maxPins`, since start. */
  get evictions(): number {
    return this.#evictions;
  }

  /** The cap (`Infinity` when unlimited). */
  get maxPins(): number {
    return this.#maxPins;
  }
}
