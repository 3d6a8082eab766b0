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

/** A decision as plain JSON-ready data, shaped for the `routing_decisions` table. */
export interface DecisionRecord {
  decidedAt: number;
  modelId: string;
  providerId: string | null;
  clientProtocol: string;
  strategy: string;
  selectedAccount: string | null;
  selectedScore: number | null;
  eligibleCount: number;
  candidates: Array<{
    account_name: string;
    provider_id: string;
    tier: number;
    score: number;
    in_band: boolean;
    components: Omit<ScoreComponents, "score" | "overCap">;
  }>;
  exclusions: Array<{ account_name: string; reason: ExclusionReason; until?: number }>;
}

/** Scores can be +∞ (zero capacity); JSON has no infinity, so cap it. */
function finite(n: number): number {
  return Number.isFinite(n) ? n : Number.MAX_VALUE;
}

/**
 * Serializes a decision. `selected` names the account actually attempted
 * (defaults to the first candidate).
 */
export function decisionRecord(decision: RoutingDecision, selected?: string): DecisionRecord {
  const chosenName = selected ?? decision.chosen;
  const chosen = decision.candidates.find((c) => c.name === chosenName);
  return {
    decidedAt: decision.decidedAt,
    modelId: decision.modelId,
    providerId: decision.requestedProviderId ?? null,
    clientProtocol: decision.clientProtocol ?? decision.protocol ?? "openai",
    strategy: decision.strategy,
    selectedAccount: chosen?.name ?? null,
    selectedScore: chosen === undefined ? null : finite(chosen.score),
    eligibleCount: decision.candidates.length,
    candidates: decision.candidates.map((c) => ({
      account_name: c.name,
      provider_id: c.providerId,
      tier: c.priority,
      score: finite(c.score),
      in_band: c.inBand === true,
      components: {
        p5h: finite(c.components.p5h),
        p7d: finite(c.components.p7d),
        p30d: finite(c.components.p30d),
        peak: finite(c.components.peak),
        mean: finite(c.components.mean),
        inflight: c.components.inflight,
        health: c.components.health,
      },
    })),
    exclusions: decision.exclusions.map((e) => ({
      account_name: e.account,
      reason: e.reason,
      ...(e.untilMs === undefined ? {} : { until: e.untilMs }),
    })),
  };
}
