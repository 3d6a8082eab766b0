import type { Protocol, Surface } from "../core/protocol.ts";
import type { RoutingDecision } from "../accounts/decision.ts";

/** Terminal states of a request row (spec 05 §3, `requests.status`). */
export type TerminalStatus = "completed" | "client_error" | "cancelled" | "error" | "interrupted";

/** How trustworthy a cost figure is. */
export type CostExactness =
  | "exact"
  | "partial"
  | "derived"
  | "estimated"
  | "provider_reported"
  | "unknown";

/** Token counts; `inputTokens` is fresh (uncached) input only. */
export interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  /**
   * The upstream's counters that failed validation, as text (see
   * `proxy/usage.ts`); the counters above hold 0 for them. Stored as an
   * `implausible_usage` operational event, never summed.
   */
  implausibleUsage?: string;
}

/** What is known when a request has passed auth and its body was read. */
export interface RequestStart {
  requestId: string;
  startedAt: number;
  clientProtocol: Protocol;
  /** The endpoint it came in on; absent means the client protocol's own (`NATIVE_SURFACE`). */
  clientSurface?: Surface;
  /** The model string as the client sent it ("" when missing). */
  requestedModel: string;
  streamed: boolean;
  bytesIn: number;
  clientIp?: string;
  sessionKeyHash?: string;
}

/** One upstream attempt, recorded with its request. */
export interface AttemptRecord {
  attemptNumber: number;
  accountName: string;
  providerId: string;
  modelId: string;
  upstreamProtocol: Protocol;
  startedAt: number;
  completedAt: number;
  statusCode?: number;
  errorClass?: string;
  errorMessage?: string;
  retryCategory?: string;
  latencyMs?: number;
  firstByteMs?: number;
  bytesOut: number;
  upstreamRequestId?: string;
}

/**
 * The routing decision an attempt followed and the account it went to. The
 * decision is serialized when the stats are flushed, off the request path.
 */
export interface AttemptDecision {
  /** 1-based. */
  attemptNumber: number;
  decision: RoutingDecision;
  selected: string;
}

/** The one terminal outcome of a request. */
export interface RequestOutcome extends TokenCounts {
  status: TerminalStatus;
  completedAt: number;
  statusCode?: number;
  errorClass?: string;
  errorMessage?: string;
  modelId?: string;
  providerId?: string;
  accountName?: string;
  upstreamProtocol?: Protocol;
  costMicros: number;
  exactness: CostExactness;
  latencyMs?: number;
  firstByteMs?: number;
  bytesOut: number;
  upstreamRequestId?: string;
  attempts: readonly AttemptRecord[];
  /** The routing decision behind each attempt (`requests.routing_json`). */
  decisions?: readonly AttemptDecision[];
  /** The endpoint's protocol and stream flag, copied from the start for in-memory counters. */
  clientProtocol?: Protocol;
  streamed?: boolean;
  /** Copied from the start like `clientProtocol`. */
  clientSurface?: Surface;
  /**
   * Request fields the last attempt's translation dropped (spec 04 §7.1), and
   * the distinct ones by name with indexes folded (`messages[].content[]`),
   * at most MAX_DROPPED_NAMES. Absent or 0 when nothing was dropped.
   */
  droppedFields?: number;
  droppedNames?: readonly string[];
}

/** Where the data plane reports requests; the recorder implements it. */
export interface UsageSink {
  /** A request entered (after auth); it must be followed by exactly one `finish`. */
  begin(start: RequestStart): void;
  /** The request's terminal outcome; a second call for the same id is ignored and counted. */
  finish(requestId: string, outcome: RequestOutcome): void;
}

/** Zero tokens. */
export const NO_TOKENS: Readonly<TokenCounts> = {
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
};
