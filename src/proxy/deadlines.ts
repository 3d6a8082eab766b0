/**
 * Coarse timeouts for the hot path. A `setTimeout` plus `clearTimeout` costs
 * several microseconds on Deno, and a stream re-arms its idle timer on every
 * chunk; here one interval timer, running only while deadlines exist, checks
 * them every `tickMs`. Timeouts of seconds do not need finer resolution.
 */

/** One armed deadline; re-arm it with {@linkcode Deadlines.arm} instead of creating another. */
export interface Deadline {
  /** Monotonic time (ms) at which `fire` runs; `Infinity` = disarmed. */
  at: number;
  readonly fire: () => void;
}

/** Resolution of deadline checks. */
export const DEADLINE_TICK_MS = 50;

/** A set of deadlines checked by one shared timer. */
export class Deadlines {
  readonly #live = new Set<Deadline>();
  readonly #tickMs: number;
  #timer?: ReturnType<typeof setInterval>;

  constructor(tickMs = DEADLINE_TICK_MS) {
    this.#tickMs = tickMs;
  }

  /** Creates a deadline that fires `fire` once, `ms` from now. */
  add(ms: number, fire: () => void): Deadline {
    const d: Deadline = { at: performance.now() + ms, fire };
    this.#live.add(d);
    this.#start();
    return d;
  }

  /** Moves an existing deadline to `ms` from now (it must not have fired or been cleared). */
  arm(d: Deadline, ms: number): void {
    d.at = performance.now() + ms;
  }

  /** Forgets a deadline; safe to call after it fired. */
  clear(d: Deadline): void {
    this.#live.delete(d);
    if (this.#live.size === 0) this.#stop();
  }

  /** Deadlines not yet fired or cleared. */
  get size(): number {
    return this.#live.size;
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
    for (const d of this.#live) {
      if (d.at > now) continue;
      this.#live.delete(d);
      d.fire();
    }
    if (this.#live.size === 0) this.#stop();
  }

  /** Stops the timer and drops every deadline without firing it. */
  close(): void {
    this.#live.clear();
    this.#stop();
  }
}
