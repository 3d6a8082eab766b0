/**
 * A provider's `max_connections`: at most that many upstream calls open at
 * once, from the fetch until the body is read or the stream ends. Deno's
 * fetch has no cap on connections per host, so without this a burst opened
 * hundreds of sockets to one provider (issue #12). A call that finds every
 * slot taken waits, first come first served, at most `pool_timeout_s`.
 */

/** Why a wait for a slot ended without one. */
export type SlotWaitEnd = "timeout" | "aborted";

/** The connection cap of one provider. */
export class UpstreamSlots {
  readonly max: number;
  readonly waitMs: number;
  #open = 0;
  #opened = 0;
  #timeouts = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(max: number, waitMs: number) {
    this.max = max;
    this.waitMs = waitMs;
  }

  /** Calls open now. */
  get open(): number {
    return this.#open;
  }

  /** Calls waiting for a slot now. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Slots handed out since the server started: the upstream calls opened. */
  get opened(): number {
    return this.#opened;
  }

  /** Waits that gave up after `waitMs` since the server started. */
  get timeouts(): number {
    return this.#timeouts;
  }

  /** Takes a slot when one is free at once (the common case: no promise, no timer). */
  tryTake(): boolean {
    if (this.#open >= this.max || this.#waiting.length > 0) return false;
    this.#open++;
    this.#opened++;
    return true;
  }

  /**
   * Waits for a slot, up to `waitMs` or until `signal` aborts. Resolves true
   * with the slot taken, else with why not.
   */
  wait(signal: AbortSignal): Promise<true | SlotWaitEnd> {
    if (this.tryTake()) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve("aborted");
    return new Promise((resolve) => {
      const settle = (outcome: true | SlotWaitEnd) => {
        if (outcome === true) this.#opened++;
        else if (outcome === "timeout") this.#timeouts++;
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        resolve(outcome);
      };
      const grant = () => settle(true);
      const leave = (why: SlotWaitEnd) => {
        const i = this.#waiting.indexOf(grant);
        if (i >= 0) this.#waiting.splice(i, 1);
        settle(why);
      };
      const onAbort = () => leave("aborted");
      const timer = setTimeout(() => leave("timeout"), this.waitMs);
      signal.addEventListener("abort", onAbort);
      this.#waiting.push(grant);
    });
  }

  /** Gives a slot back: straight to the longest waiter, if any. */
  release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#open = Math.max(0, this.#open - 1);
  }
}
