/**
 * A circuit breaker per account (spec 03 §10, spec 00 §4): 5 consecutive
 * failures open it; 300 s after the last failure one half-open probe may go
 * through; a success closes it, a failure opens it again.
 */

/** Consecutive failures that open the circuit. */
export const CIRCUIT_FAILURE_THRESHOLD = 5;
/** How long an open circuit rejects before admitting a probe. */
export const CIRCUIT_OPEN_MS = 300_000;

/** Where the breaker stands. */
export type CircuitState = "closed" | "open" | "half_open";

/** Options for {@linkcode CircuitBreaker}. */
export interface CircuitOptions {
  failureThreshold?: number;
  openMs?: number;
}

type Internal =
  | { readonly kind: "closed"; readonly failures: number }
  | { readonly kind: "open"; readonly failures: number; readonly lastFailureAt: number }
  | { readonly kind: "half_open"; readonly failures: number; readonly probeInFlight: boolean };

/** A read-only view for status pages. */
export interface CircuitSnapshot {
  state: CircuitState;
  consecutiveFailures: number;
  /** Open circuits: ms until a probe is admitted (0 = now). */
  retryInMs?: number;
}

/** The result of {@linkcode CircuitBreaker.tryAcquire}. */
export type CircuitAdmission = "pass" | "probe" | "rejected";

/** One account's breaker. Time is passed in, so it stays pure and testable. */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #openMs: number;
  #state: Internal = { kind: "closed", failures: 0 };

  constructor(options: CircuitOptions = {}) {
    this.#threshold = options.failureThreshold ?? CIRCUIT_FAILURE_THRESHOLD;
    this.#openMs = options.openMs ?? CIRCUIT_OPEN_MS;
  }

  get state(): CircuitState {
    return this.#state.kind;
  }

  /** Failures since the last success. */
  get consecutiveFailures(): number {
    return this.#state.failures;
  }

  /** Failing recently or not closed: the scorer adds the health penalty. */
  get isUnhealthy(): boolean {
    return this.#state.kind !== "closed" || this.#state.failures > 0;
  }

  /** Would an attempt be admitted now? Does not change state (eligibility gate). */
  canAttempt(now: number): boolean {
    const s = this.#state;
    if (s.kind === "closed") return true;
    if (s.kind === "open") return now - s.lastFailureAt >= this.#openMs;
    return !s.probeInFlight;
  }

  /**
   * Admits an attempt: `pass` when closed, `probe` when this attempt is the
   * one half-open probe, `rejected` otherwise.
   */
  tryAcquire(now: number): CircuitAdmission {
    const s = this.#state;
    if (s.kind === "closed") return "pass";
    if (!this.canAttempt(now)) return "rejected";
    this.#state = { kind: "half_open", failures: s.failures, probeInFlight: true };
    return "probe";
  }

  /** Frees the probe slot of an attempt that ended without a success or failure record. */
  releaseProbe(): void {
    const s = this.#state;
    if (s.kind === "half_open" && s.probeInFlight) {
      this.#state = { kind: "half_open", failures: s.failures, probeInFlight: false };
    }
  }

  recordSuccess(): void {
    this.#state = { kind: "closed", failures: 0 };
  }

  recordFailure(now: number): void {
    const s = this.#state;
    const failures = s.failures + 1;
    if (s.kind === "half_open" || s.kind === "open" || failures >= this.#threshold) {
      this.#state = { kind: "open", failures, lastFailureAt: now };
    } else {
      this.#state = { kind: "closed", failures };
    }
  }

  snapshot(now: number): CircuitSnapshot {
    const s = this.#state;
    if (s.kind === "open") {
      return {
        state: "open",
        consecutiveFailures: s.failures,
        retryInMs: Math.max(0, s.lastFailureAt + this.#openMs - now),
      };
    }
    return { state: s.kind, consecutiveFailures: s.failures };
  }

  /** When an open circuit admits its probe; undefined when not open. */
  reopensAt(): number | undefined {
    const s = this.#state;
    return s.kind === "open" ? s.lastFailureAt + this.#openMs : undefined;
  }
}
