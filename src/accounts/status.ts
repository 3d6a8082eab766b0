/**
 * One account's routing state as plain data: what `/api/accounts/status`,
 * `eggpool accounts status` and the dashboard show.
 */
import type { FailureClass } from "../routing/classify.ts";
import type { PerWindow } from "../routing/scorer.ts";
import type { WindowName, WindowUsage } from "../routing/windows.ts";
import { WINDOWS } from "../routing/windows.ts";
import type { AccountRuntime } from "./account.ts";
import { hasCredentials } from "./account.ts";
import type { BackoffEntry } from "./backoffs.ts";
import type { CircuitSnapshot } from "./circuit.ts";
import { healthOf } from "./health.ts";
import type { AccountHealth } from "./health.ts";

/** The most recent failed attempt on an account. */
export interface LastError {
  at: number;
  class: FailureClass;
  errorClass: string;
  statusCode?: number;
}

/** Spend of one window against its `[limits]` budget. */
export interface WindowStatus {
  requests: number;
  tokens: number;
  costMicros: number;
  /** Budget × weight; undefined when spend is not capped. */
  limitMicros?: number;
  /** (cost + offset) / limit; undefined without a limit. */
  spendRatio?: number;
}

/** Everything known about one account's routing state. */
export interface AccountStatus {
  name: string;
  providerId: string;
  priority: number;
  enabled: boolean;
  hasKey: boolean;
  weight: number;
  inFlight: number;
  circuit: CircuitSnapshot;
  backoffs: BackoffEntry[];
  windows: Record<WindowName, WindowStatus>;
  lastError?: LastError;
  /** The live state the badge, the CLI and `/metrics` show. */
  health: AccountHealth;
}

/** Inputs gathered by the pool for {@linkcode accountStatus}. */
export interface StatusFacts {
  now: number;
  inFlight: number;
  circuit: CircuitSnapshot;
  backoffs: BackoffEntry[];
  /** Account-wide backoffs no success has cleared, lapsed ones included (`BackoffBook.unresolved`). */
  unresolved?: readonly BackoffEntry[];
  usage: WindowUsage;
  caps?: PerWindow;
  offsets?: PerWindow;
  lastError?: LastError;
}

/** Builds one account's status record. */
export function accountStatus(a: AccountRuntime, facts: StatusFacts): AccountStatus {
  const weight = a.weight > 0 ? a.weight : 1;
  const windows = {} as Record<WindowName, WindowStatus>;
  WINDOWS.forEach((w, i) => {
    const u = facts.usage[w.name];
    const cap = facts.caps?.[i];
    const status: WindowStatus = { ...u };
    if (cap !== undefined && cap > 0) {
      status.limitMicros = cap * weight;
      status.spendRatio = (u.costMicros + (facts.offsets?.[i] ?? 0)) / status.limitMicros;
    }
    windows[w.name] = status;
  });
  return {
    name: a.name,
    providerId: a.provider.id,
    priority: a.provider.priority,
    enabled: a.enabled,
    hasKey: hasCredentials(a),
    weight: a.weight,
    inFlight: facts.inFlight,
    circuit: facts.circuit,
    backoffs: facts.backoffs,
    windows,
    lastError: facts.lastError,
    health: healthOf({
      enabled: a.enabled,
      hasKey: hasCredentials(a),
      circuit: facts.circuit,
      now: facts.now,
      unresolved: facts.unresolved ?? facts.backoffs.filter((b) => b.modelId === undefined),
    }),
  };
}
