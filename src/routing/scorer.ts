/**
 * The quota-fair scorer (spec 03 §5 as amended by 09-decisions): each
 * account's utilization of its 5 h / 7 d / 30 d windows, with in-flight and
 * health penalties. Lower is better. Pure arithmetic on numbers the caller
 * gathers; ranking into tiers and fair rotation live in `rank.ts`.
 */
import type { ResolvedConfig } from "../config/schema.ts";
import { WINDOWS } from "./windows.ts";

/** Three numbers, one per window: 5 h, 7 d, 30 d. */
export type PerWindow = readonly [number, number, number];

/** Default request capacity per window (spec 00 §4), scaled by account weight. */
export const DEFAULT_REQUEST_CAPACITY: PerWindow = [2_500, 35_000, 150_000];
/** Default token capacity per window (spec 00 §4), scaled by account weight. */
export const DEFAULT_TOKEN_CAPACITY: PerWindow = [500_000_000, 7_000_000_000, 30_000_000_000];

/** Weight of the mean utilization next to the peak (spec 03 §5). */
const MEAN_WEIGHT = 0.15;
/** Reservation token estimate bounds (spec 03 §7). */
const MIN_RESERVATION_TOKENS = 1_000;
const MAX_RESERVATION_TOKENS = 128_000;

/** How ties within a tier are broken (spec 03 §6). */
export type FairnessMode = "off" | "round_robin" | "random";
/** Which request facts key the round-robin rotor. */
export type FairnessScope =
  | "provider_model_protocol"
  | "provider_model"
  | "priority_model_protocol";

/** Everything the scorer and ranker need from `[routing]` and `[limits]`. */
export interface ScorerOptions {
  requestCapacity: PerWindow;
  tokenCapacity: PerWindow;
  /**
   * `[limits]` microdollar budgets per window; their utilization is one more
   * dimension of `p_W` (09-decisions). Undefined = spend never ranks.
   */
  spendCapMicros?: PerWindow;
  /** Score added per request in flight (`inflight_penalty / five_hour_microdollars`). */
  inflightPenalty: number;
  /** Score added to an unhealthy account (`health_penalty / five_hour_microdollars`). */
  healthPenalty: number;
  /** Band for shuffling near ties when fairness is off (0 = none). */
  nearTieEpsilon: number;
  /** Band of the fairness rotation. */
  fairnessEpsilon: number;
  fairnessMode: FairnessMode;
  fairnessScope: FairnessScope;
  /** `hard_cap`: an account at or over any capacity is excluded, not only ranked low. */
  hardCap: boolean;
}

/** Scorer options from spec defaults, for tests and the benchmark. */
export const DEFAULT_SCORER_OPTIONS: Readonly<ScorerOptions> = {
  requestCapacity: DEFAULT_REQUEST_CAPACITY,
  tokenCapacity: DEFAULT_TOKEN_CAPACITY,
  spendCapMicros: [12_000_000, 30_000_000, 60_000_000],
  inflightPenalty: 100_000 / 12_000_000,
  healthPenalty: 500_000 / 12_000_000,
  nearTieEpsilon: 0.1,
  fairnessEpsilon: 0.1,
  fairnessMode: "round_robin",
  fairnessScope: "provider_model_protocol",
  hardCap: false,
};

/** Reads `[routing]` and `[limits]` into {@linkcode ScorerOptions}. */
export function scorerOptionsFromConfig(config: ResolvedConfig): ScorerOptions {
  const r = config.routing;
  const l = config.limits;
  const nearTie = r.randomize_near_ties ? r.near_tie_epsilon : 0;
  return {
    requestCapacity: DEFAULT_REQUEST_CAPACITY,
    tokenCapacity: DEFAULT_TOKEN_CAPACITY,
    spendCapMicros: [l.five_hour_microdollars, l.weekly_microdollars, l.monthly_microdollars],
    inflightPenalty: r.inflight_penalty / l.five_hour_microdollars,
    healthPenalty: r.health_penalty / l.five_hour_microdollars,
    nearTieEpsilon: nearTie,
    fairnessEpsilon: r.fairness_epsilon ?? nearTie,
    fairnessMode: r.fairness_mode,
    fairnessScope: r.fairness_scope,
    hardCap: r.local_quota_mode === "hard_cap",
  };
}

/**
 * Per-account known external spend (`*_offset_microdollars`), for
 * `AccountPoolOptions.spendOffsets`; accounts with no offsets are left out.
 */
export function spendOffsetsFromConfig(config: ResolvedConfig): Map<string, PerWindow> {
  const out = new Map<string, PerWindow>();
  for (const p of Object.values(config.providers)) {
    for (const a of p.accounts) {
      const o: PerWindow = [
        a.five_hour_offset_microdollars,
        a.weekly_offset_microdollars,
        a.monthly_offset_microdollars,
      ];
      if (o.some((v) => v !== 0)) out.set(a.name, o);
    }
  }
  return out;
}

/** Reservation estimate of a request's tokens: `ceil(bytes / 3)` within [1 000, 128 000] (spec 03 §7). */
export function estimateReservationTokens(bodyBytes: number): number {
  const raw = Math.ceil(Math.max(0, bodyBytes) / 3);
  return Math.min(MAX_RESERVATION_TOKENS, Math.max(MIN_RESERVATION_TOKENS, raw));
}

/** One account's inputs to {@linkcode scoreAccount}. */
export interface ScoreInput {
  /** `QuotaWindows.fill` layout: `[req, tok, cost]` for 5 h, then 7 d, then 30 d. */
  usage: Float64Array;
  /** Account weight; ≤ 0 counts as 1. */
  weight: number;
  /** Requests in flight on the account (each reserves one request). */
  inFlight: number;
  /** Tokens reserved by those requests. */
  reservedTokens: number;
  /** Reservation estimate of the incoming request. */
  estTokens: number;
  /** Circuit not closed, or failures since the last success. */
  unhealthy: boolean;
  /** Known external spend per window (`*_offset_microdollars`). */
  spendOffsetMicros?: PerWindow;
  /** From {@linkcode weightedCapacities}; computed from `weight` when absent. */
  capacities?: Float64Array;
}

/** The parts of one account's score, kept for the routing decision record. */
export interface ScoreComponents {
  /** `p_W` of the 5 h, 7 d and 30 d windows. */
  p5h: number;
  p7d: number;
  p30d: number;
  peak: number;
  mean: number;
  inflight: number;
  health: number;
  score: number;
  /** Some capacity is already reached (`>=`), counting reservations and offsets. */
  overCap: boolean;
}

/**
 * Capacities scaled by an account's weight, laid out like the usage buffer:
 * `[requests, tokens, spend]` per window; uncapped spend is +∞. Compute once
 * per account and pass as {@linkcode ScoreInput.capacities}.
 */
export function weightedCapacities(weight: number, options: ScorerOptions): Float64Array {
  const w = weight > 0 ? weight : 1;
  const out = new Float64Array(WINDOWS.length * 3);
  for (let i = 0; i < WINDOWS.length; i++) {
    out[i * 3] = options.requestCapacity[i] * w;
    out[i * 3 + 1] = options.tokenCapacity[i] * w;
    const spend = options.spendCapMicros?.[i];
    out[i * 3 + 2] = spend === undefined ? Number.POSITIVE_INFINITY : spend * w;
  }
  return out;
}

/** `used / capacity`, +∞ for a zero capacity (spec 03 §5). */
function ratio(used: number, capacity: number): number {
  return capacity > 0 ? (used > 0 ? used : 0) / capacity : Number.POSITIVE_INFINITY;
}

/**
 * Scores one account (lower is better):
 * `max(p) + 0.15 × mean(p) + inFlight × inflightPenalty + unhealthy × healthPenalty`,
 * where `p_W` is the highest of request, token and (when capped) spend utilization.
 */
export function scoreAccount(input: ScoreInput, options: ScorerOptions): ScoreComponents {
  const u = input.usage;
  const cap = input.capacities ?? weightedCapacities(input.weight, options);
  const offsets = input.spendOffsetMicros;
  const inFlight = input.inFlight;
  let overCap = false;
  let p5h = 0;
  let p7d = 0;
  let p30d = 0;
  for (let i = 0, k = 0; i < 3; i++, k += 3) {
    const requests = u[k] + inFlight;
    const tokens = u[k + 1] + input.reservedTokens;
    const spent = offsets === undefined ? u[k + 2] : u[k + 2] + offsets[i];
    const req = ratio(requests + 1, cap[k]);
    const tok = ratio(tokens + input.estTokens, cap[k + 1]);
    const spd = ratio(spent, cap[k + 2]);
    const p = req > tok ? (req > spd ? req : spd) : (tok > spd ? tok : spd);
    if (i === 0) p5h = p;
    else if (i === 1) p7d = p;
    else p30d = p;
    if (requests >= cap[k] || tokens >= cap[k + 1] || spent >= cap[k + 2]) overCap = true;
  }
  const peak = Math.max(p5h, p7d, p30d);
  const mean = (p5h + p7d + p30d) / 3;
  const inflight = inFlight * options.inflightPenalty;
  const health = input.unhealthy ? options.healthPenalty : 0;
  return {
    p5h,
    p7d,
    p30d,
    peak,
    mean,
    inflight,
    health,
    score: peak + MEAN_WEIGHT * mean + inflight + health,
    overCap,
  };
}
