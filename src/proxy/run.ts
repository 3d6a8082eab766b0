/**
 * One client request's bookkeeping: its start record, its attempts, and the
 * guarantee that it reaches the stats exactly once, whatever path ends it.
 */
import type { Protocol } from "../core/protocol.ts";
import type {
  AttemptRecord,
  CostExactness,
  RequestOutcome,
  RequestStart,
  TerminalStatus,
  UsageSink,
} from "../stats/types.ts";
import { NO_TOKENS } from "../stats/types.ts";
import type { AttemptDecision, TokenCounts } from "../stats/types.ts";
import { MAX_DROPPED_NAME_CHARS, MAX_DROPPED_NAMES } from "../stats/bounds.ts";
import { lossFieldNames } from "./translate/types.ts";
import type { Loss } from "./translate/types.ts";

/** What the last attempt learned, filled in as the request goes. */
export interface RunFacts {
  modelId?: string;
  providerId?: string;
  accountName?: string;
  upstreamProtocol?: Protocol;
  upstreamRequestId?: string;
  firstByteAt?: number;
  bytesOut: number;
  /** What the last attempt's translation dropped, for the warning header (transcoded only). */
  transcodeWarnings?: string;
  /** The same drops as data, for the stats (the surface's and this attempt's translation's). */
  transcodeLosses?: readonly Loss[];
}

/** The terminal facts passed to {@linkcode RequestRun.finish}. */
export interface RunEnding {
  status: TerminalStatus;
  statusCode?: number;
  errorClass?: string;
  errorMessage?: string;
  tokens?: TokenCounts;
  costMicros?: number;
  exactness?: CostExactness;
}

/** Longest error message kept in a stats row. */
const MAX_ERROR_MESSAGE_CHARS = 300;

/** Tracks one request from intake to its single terminal record. */
export class RequestRun {
  readonly start: RequestStart;
  readonly attempts: AttemptRecord[] = [];
  /** Why each attempt went to its account; written with the request. */
  readonly decisions: AttemptDecision[] = [];
  readonly facts: RunFacts = { bytesOut: 0 };
  #begun = false;
  #finished = false;
  readonly #sink: UsageSink;
  readonly #clock: () => number;

  constructor(sink: UsageSink, clock: () => number, start: RequestStart) {
    this.#sink = sink;
    this.#clock = clock;
    this.start = start;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Reports the request as entered; called once its model and stream flag are known. */
  begin(): void {
    if (this.#begun) return;
    this.#begun = true;
    this.#sink.begin(this.start);
  }

  /** Records the terminal outcome; later calls are no-ops, so every path may call it. */
  finish(ending: RunEnding): void {
    if (this.#finished) return;
    this.begin();
    this.#finished = true;
    const now = this.#clock();
    const f = this.facts;
    const outcome: RequestOutcome = {
      ...(ending.tokens ?? NO_TOKENS),
      status: ending.status,
      completedAt: now,
      statusCode: ending.statusCode,
      errorClass: ending.errorClass,
      errorMessage: ending.errorMessage?.slice(0, MAX_ERROR_MESSAGE_CHARS),
      modelId: f.modelId,
      providerId: f.providerId,
      accountName: f.accountName,
      upstreamProtocol: f.upstreamProtocol,
      costMicros: ending.costMicros ?? 0,
      exactness: ending.exactness ?? "unknown",
      latencyMs: now - this.start.startedAt,
      firstByteMs: f.firstByteAt === undefined ? undefined : f.firstByteAt - this.start.startedAt,
      bytesOut: f.bytesOut,
      upstreamRequestId: f.upstreamRequestId,
      attempts: this.attempts,
      decisions: this.decisions,
      clientProtocol: this.start.clientProtocol,
      streamed: this.start.streamed,
      clientSurface: this.start.clientSurface,
    };
    const losses = f.transcodeLosses;
    if (losses !== undefined && losses.length > 0) {
      outcome.droppedFields = losses.length;
      outcome.droppedNames = lossFieldNames(losses, MAX_DROPPED_NAMES, MAX_DROPPED_NAME_CHARS);
    }
    this.#sink.finish(this.start.requestId, outcome);
  }
}
