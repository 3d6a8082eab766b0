/**
 * Bookkeeping for periodic background work (the stale-request finalizer and
 * friends): when each task last ran, how long it took, and its last error,
 * for `/api/stats/runtime`.
 */

/** One task as `/api/stats/runtime` reports it; times are epoch ms. */
export interface TaskStatus {
  name: string;
  /** `idle` before the first run; `failing` while the last run threw. */
  state: "idle" | "ok" | "failing";
  intervalMs?: number;
  runs: number;
  failures: number;
  lastRunAt?: number;
  lastDurationMs?: number;
  lastSuccessAt?: number;
  lastError?: string;
  lastErrorAt?: number;
}

/** Options for {@linkcode TaskBoard}. */
export interface TaskBoardOptions {
  clock: () => number;
  log: (message: string) => void;
}

interface TaskEntry {
  status: TaskStatus;
  /** Operator-facing name used in log lines ("Stale-request finalizer"). */
  label: string;
}

/** Runs named tasks, catching and recording their errors. */
export class TaskBoard {
  readonly #o: TaskBoardOptions;
  readonly #tasks = new Map<string, TaskEntry>();

  constructor(options: TaskBoardOptions) {
    this.#o = options;
  }

  /** Registers a task so it is listed (as idle) before its first run. */
  define(name: string, options: { label?: string; intervalMs?: number } = {}): void {
    if (this.#tasks.has(name)) return;
    this.#tasks.set(name, {
      label: options.label ?? name,
      status: { name, state: "idle", intervalMs: options.intervalMs, runs: 0, failures: 0 },
    });
  }

  /** Runs `fn` now; an error is logged as "<label> failed: …" and recorded, never thrown. */
  run(name: string, fn: () => void): void {
    this.define(name);
    const entry = this.#tasks.get(name)!;
    const s = entry.status;
    const started = this.#o.clock();
    s.runs++;
    s.lastRunAt = started;
    try {
      fn();
      s.state = "ok";
      s.lastSuccessAt = this.#o.clock();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      s.state = "failing";
      s.failures++;
      s.lastError = message;
      s.lastErrorAt = this.#o.clock();
      this.#o.log(`${entry.label} failed: ${message}`);
    } finally {
      s.lastDurationMs = this.#o.clock() - started;
    }
  }

  /** A copy of every task's status, in registration order. */
  list(): TaskStatus[] {
    return [...this.#tasks.values()].map((e) => ({ ...e.status }));
  }
}
