/**
 * Coarse timeouts for the hot path. A `setTimeout` plus `clearTimeout` costs
 * several microseconds on Deno, and a stream re-arms its idle timer on every
 * chunk; here one interval timer, running only while deadlines exist, checks
 * them every `tickMs`. Timeouts of seconds do not need finer resolution.
 *
 * Live deadlines sit in an array of slots, not a `Set`: with a deadline added
 * and deleted on every request, V8 kept the deleted entries of a `Set` (and
 * through their `fire` closures each request's whole state) alive across
 * young-generation collections, which promoted about 3 KB per request into
 * the old generation (`--trace-gc-nvp`, json at concurrency 64).
 */

/** One armed deadline; re-arm it with {@linkcode Deadlines.arm} instead of creating another. */
export interface Deadline {
  /** Monotonic time (ms) at which `fire` runs; `Infinity` = disarmed. */
  at: number;
  readonly fire: () => void;
  /** Its index in the slot array, -1 once fired or cleared. */
  slot: number;
}

/** Resolution of deadline checks. */
export const DEADLINE_TICK_MS = 50;

/** A set of deadlines checked by one shared timer. */
export class Deadlines {
  readonly #slots: (Deadline | undefined)[] = [];
  readonly #free: number[] = [];
  #size = 0;
  readonly #tickMs: number;
  #timer?: ReturnType<typeof setInterval>;

  constructor(tickMs = DEADLINE_TICK_MS) {
    this.#tickMs = tickMs;
  }

  /** Creates a deadline that fires `fire` once, `ms` from now. */
  add(ms: number, fire: () => void): Deadline {
    const slot = this.#free.length > 0 ? this.#free.pop()! : this.#slots.length;
    const d: Deadline = { at: performance.now() + ms, fire, slot };
    this.#slots[slot] = d;
    this.#size++;
    this.#start();
    return d;
  }

  /** Moves an existing deadline to `ms` from now (it must not have fired or been cleared). */
  arm(d: Deadline, ms: number): void {
    d.at = performance.now() + ms;
  }

  /** Forgets a deadline; safe to call after it fired. */
  clear(d: Deadline): void {
    if (d.slot < 0) return;
    this.#slots[d.slot] = undefined;
    this.#free.push(d.slot);
    d.slot = -1;
    if (--this.#size === 0) this.#stop();
  }

  /** Deadlines not yet fired or cleared. */
  get size(): number {
    return this.#size;
  }

  #start(): void {
    if (this.#timer !== undefined) return;
    const timer = setInterval(() => this.#check(), this.#tickMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #check(): void {
    const now = performance.now();
    const slots = this.#slots;
    for (let i = 0; i < slots.length; i++) {
      const d = slots[i];
      if (d === undefined || d.at > now) continue;
      this.clear(d);
      d.fire();
    }
  }

  /** Stops the timer and drops every deadline without firing it. */
  close(): void {
    for (const d of this.#slots) if (d !== undefined) d.slot = -1;
    this.#slots.length = 0;
    this.#free.length = 0;
    this.#size = 0;
    this.#stop();
  }
}
