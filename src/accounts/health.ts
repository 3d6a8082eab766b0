/**
 * An account's live health (issue #14): one state for the dashboard badge,
 * `eggpool accounts status` and `/metrics`, and the account events written
 * when it changes. The state names are the badge texts' keys of spec 06 §3.
 */
import type { BackoffEntry, BackoffReason } from "./backoffs.ts";
import type { CircuitSnapshot } from "./circuit.ts";

/** What the badge shows, worst first: operator and credential problems, then backoffs, then the breaker. */
export type HealthState =
  | "healthy"
  | "disabled"
  | "no_key"
  | "auth_failed"
  | "quota_exhausted"
  | "rate_limited"
  | "circuit_open"
  | "cooldown_active";

/** The account's state and what it rests on. */
export interface AccountHealth {
  state: HealthState;
  /** The backoff behind the state, when one is. */
  reason?: BackoffReason;
  /**
   * When the account may be tried again (epoch ms): the backoff's deadline or
   * the circuit's probe time; null = until the key changes; undefined = now.
   * In the past for a lapsed backoff no success has cleared yet.
   */
  untilMs?: number | null;
  /** The last failure behind the state. */
  lastFailureAt?: number;
  statusCode?: number;
}

/** What {@linkcode healthOf} looks at. */
export interface HealthFacts {
  enabled: boolean;
  hasKey: boolean;
  circuit: CircuitSnapshot;
  now: number;
  /** Account-wide backoffs no success has cleared and whose streak is open. */
  unresolved: readonly BackoffEntry[];
}

/** Backoff reasons in the order the badge prefers them. */
const ORDER: ReadonlyArray<[BackoffReason, HealthState]> = [
  ["authentication_failed", "auth_failed"],
  ["quota_exhausted", "quota_exhausted"],
  ["rate_limited", "rate_limited"],
];

/** The badge state of a backoff reason. */
export function healthOfReason(reason: BackoffReason): HealthState {
  return ORDER.find(([r]) => r === reason)?.[1] ?? "cooldown_active";
}

function fromEntry(state: HealthState, e: BackoffEntry): AccountHealth {
  return {
    state,
    reason: e.reason,
    untilMs: e.untilMs ?? null,
    lastFailureAt: e.lastFailureAt,
    statusCode: e.statusCode,
  };
}

/**
 * The account's health now. A backoff that lapsed without a success since
 * still shows (the upstream's last answer was that failure) until a success
 * clears it or its streak ends; an open circuit shows before a lapsed backoff.
 */
export function healthOf(f: HealthFacts): AccountHealth {
  if (!f.enabled) return { state: "disabled" };
  if (!f.hasKey) return { state: "no_key" };
  const active = f.unresolved.filter((e) => e.untilMs === undefined || e.untilMs > f.now);
  for (const [reason, state] of ORDER) {
    const e = active.find((b) => b.reason === reason);
    if (e !== undefined) return fromEntry(state, e);
  }
  const circuitOpen = f.circuit.state === "open";
  if (active.length > 0 && !circuitOpen) return fromEntry("cooldown_active", active[0]);
  if (circuitOpen) {
    return {
      state: "circuit_open",
      untilMs: f.now + (f.circuit.retryInMs ?? 0),
    };
  }
  for (const [reason, state] of ORDER) {
    const e = f.unresolved.find((b) => b.reason === reason);
    if (e !== undefined) return fromEntry(state, e);
  }
  if (f.unresolved.length > 0) return fromEntry("cooldown_active", f.unresolved[0]);
  if (f.circuit.state === "half_open") return { state: "cooldown_active" };
  return { state: "healthy" };
}

/** Account event types (the `account_events.event_type` values written on state changes). */
export type AccountEventType =
  | "rate_limited"
  | "quota_exhausted"
  | "auth_failed"
  | "cooldown_active"
  | "circuit_open"
  | "circuit_closed"
  | "recovered";

/** One change of an account's state, for `account_events`. */
export interface AccountEvent {
  account: string;
  type: AccountEventType;
  at: number;
  details: Record<string, unknown>;
}

/** Receives account events; the app writes them to SQLite. */
export type AccountEventSink = (event: AccountEvent) => void;

/** The event a new streak of `reason` starts (model-scoped reasons start none). */
export function eventOfReason(reason: BackoffReason): AccountEventType | undefined {
  if (reason === "model_unavailable") return undefined;
  const state = healthOfReason(reason);
  return state as AccountEventType;
}
