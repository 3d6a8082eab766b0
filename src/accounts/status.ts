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

/** Use of one window against the scorer's capacities and its `[limits]` budget. */
export interface WindowStatus {
  requests: number;
  tokens: number;
  costMicros: number;
  /** Request capacity × weight (spec 03 §5); undefined when the caller gave no capacities. */
  requestLimit?: number;
  /** Token capacity × weight; undefined when the caller gave no capacities. */
  tokenLimit?: number;
  /** Known external spend (`*_offset_microdollars`) counted with `costMicros` against the limit. */
  offsetMicros?: number;
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
  /** Tokens reserved by the requests in flight (each reserves its estimate, spec 03 §7). */
  reservedTokens: number;
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
  /** Tokens reserved by those requests; 0 when absent. */
  reservedTokens?: number;
  /** The scorer's request and token capacities per window (before the weight). */
  capacities?: { requests: PerWindow; tokens: PerWindow };
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
    if (facts.capacities !== undefined) {
      status.requestLimit = facts.capacities.requests[i] * weight;
      status.tokenLimit = facts.capacities.tokens[i] * weight;
    }
    const offset = facts.offsets?.[i] ?? 0;
    if (offset !== 0) status.offsetMicros = offset;
    if (cap !== undefined && cap > 0) {
      status.limitMicros = cap * weight;
      status.spendRatio = (u.costMicros + offset) / status.limitMicros;
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
    reservedTokens: facts.reservedTokens ?? 0,
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
