/**
 * What one routing decision saw and chose: the ranked candidates with their
 * score components, and every excluded account with its reason. The proxy
 * walks `candidates` in order; stats record {@linkcode decisionRecord}.
 */
import type { Protocol } from "../core/protocol.ts";
import type { ScoreComponents } from "../routing/scorer.ts";
import type { AccountRuntime } from "./account.ts";

/** What the router is asked. */
export interface RouteRequest {
  /** Bare upstream model id. */
  modelId: string;
  /** Providers whose catalog serves the model over the wanted protocol. */
  providerIds: ReadonlySet<string>;
  /** The provider named by `model/provider`, when the client named one. */
  requestedProviderId?: string;
  /** Upstream protocol of the attempt. */
  protocol?: Protocol;
  clientProtocol?: Protocol;
  /** Reservation estimate of the request's tokens (`estimateReservationTokens`). */
  estTokens?: number;
  /** Accounts already tried for this request. */
  attempted?: ReadonlySet<string>;
}

/** Why an account was left out (spec 03 §4). */
export type ExclusionReason =
  | "attempted"
  | "disabled"
  | "no_key"
  | "auth_failed"
  | "rate_limited"
  | "quota_exhausted"
  | "model_unavailable"
  | "cooling_down"
  | "circuit_open"
  | "not_serving"
  | "hard_cap";

/** An account that was not eligible, and why. */
export interface Exclusion {
  account: string;
  reason: ExclusionReason;
  /** When the account (or model) becomes eligible again, if known. */
  untilMs?: number;
}

/** One eligible account, ranked. */
export interface Candidate {
  account: AccountRuntime;
  name: string;
  /** Position of the account in name order (ranking tie-break). */
  ord: number;
  providerId: string;
  /** `routing_priority` tier. */
  priority: number;
  score: number;
  components: ScoreComponents;
  /** It sat in its tier's fairness band. */
  inBand?: boolean;
}

/** The full decision. `candidates[0]` is the account to try first. */
export interface RoutingDecision {
  decidedAt: number;
  modelId: string;
  requestedProviderId?: string;
  protocol?: Protocol;
  clientProtocol?: Protocol;
  strategy: "quota_fair";
  candidates: Candidate[];
  exclusions: Exclusion[];
  /** Name of `candidates[0]`; undefined when nothing is eligible. */
  chosen?: string;
}

/** Scores can be +∞ (zero capacity); JSON has no infinity, so cap it. */
function finite(n: number): number {
  return Number.isFinite(n) ? n : Number.MAX_VALUE;
}

/**
 * The numbers stored for each candidate after its account id, in this order
 * (`requests.routing_json` holds one array per candidate: arrays
 * cost a fraction of objects to write on every request).
 */
export const CANDIDATE_FIELDS = [
  "tier",
  "score",
  "in_band",
  "p5h",
  "p7d",
  "p30d",
  "peak",
  "mean",
  "inflight",
  "health",
] as const;

/** A candidate's numbers in {@linkcode CANDIDATE_FIELDS} order. */
export function candidateValues(c: Candidate): number[] {
  const k = c.components;
  return [
    c.priority,
    finite(c.score),
    c.inBand === true ? 1 : 0,
    finite(k.p5h),
    finite(k.p7d),
    finite(k.p30d),
    finite(k.peak),
    finite(k.mean),
    k.inflight,
    k.health,
  ];
}

/** The candidate an attempt went to, if it was ranked. */
export function selectedCandidate(
  decision: RoutingDecision,
  selected: string,
): Candidate | undefined {
  return decision.candidates.find((c) => c.name === selected);
}

/** A score as stored (finite). */
export function storedScore(score: number): number {
  return finite(score);
}
