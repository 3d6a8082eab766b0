/**
 * Event-loop lag: a timer asks to wake every `intervalMs` and records how
 * late it actually woke. Cheap (two wake-ups a second) and unref'd so it
 * never keeps the process alive.
 */

/** Default sampling period; fine enough to see stalls, rare enough to cost nothing. */
const DEFAULT_INTERVAL_MS = 500;
/** Samples kept: one minute at the default period. */
const DEFAULT_WINDOW = 120;

/** Lag over the recent window, in milliseconds. */
export interface LagStats {
  intervalMs: number;
  samples: number;
  lastMs: number;
  meanMs: number;
  p95Ms: number;
  maxMs: number;
}

/** Samples event-loop lag until {@linkcode LoopLagMonitor.stop}. */
export class LoopLagMonitor {
  readonly #intervalMs: number;
  readonly #window: number;
  readonly #samples: number[] = [];
  #timer?: ReturnType<typeof setTimeout>;
  #expected = 0;

  constructor(options: { intervalMs?: number; window?: number } = {}) {
    this.#intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.#window = options.window ?? DEFAULT_WINDOW;
    this.#schedule();
  }

  #schedule(): void {
    this.#expected = performance.now() + this.#intervalMs;
    const timer = setTimeout(() => {
      const lag = Math.max(0, performance.now() - this.#expected);
      this.#samples.push(lag);
      if (this.#samples.length > this.#window) this.#samples.shift();
      this.#schedule();
    }, this.#intervalMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  stats(): LagStats {
    const s = this.#samples;
    const sorted = [...s].sort((a, b) => a - b);
    const round = (v: number) => Math.round(v * 100) / 100;
    return {
      intervalMs: this.#intervalMs,
      samples: s.length,
      lastMs: round(s.at(-1) ?? 0),
      meanMs: round(s.length === 0 ? 0 : s.reduce((a, b) => a + b, 0) / s.length),
      p95Ms: round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0),
      maxMs: round(sorted.at(-1) ?? 0),
    };
  }

  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
