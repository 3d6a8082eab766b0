/**
 * Feeds finalized requests into the quota windows on their way to the stats
 * sink, so the scorer sees each request as soon as it ends (spec 03 §5).
 */
import type { RequestOutcome, RequestStart, UsageSink } from "../stats/types.ts";
import type { UsageObservation } from "./windows.ts";

/** Anything that counts finalized requests per account (`QuotaWindows`, `AccountPool`). */
export interface UsageObserver {
  observe(account: string, observation: UsageObservation): void;
}

/** Tokens a request counts against its account's windows: input + output + cache read + write. */
export function windowTokens(o: RequestOutcome): number {
  return o.inputTokens + o.outputTokens + o.cacheReadTokens + o.cacheWriteTokens;
}

/**
 * Wraps `sink` so every finished request with an account is also observed.
 * Requests that never reached an account (validation errors) count nowhere.
 */
export function withUsageObserver(sink: UsageSink, observer: UsageObserver): UsageSink {
  const starts = new Map<string, number>();
  return {
    begin(start: RequestStart): void {
      starts.set(start.requestId, start.startedAt);
      sink.begin(start);
    },
    finish(requestId: string, outcome: RequestOutcome): void {
      const startedAt = starts.get(requestId);
      starts.delete(requestId);
      sink.finish(requestId, outcome);
      if (startedAt === undefined || outcome.accountName === undefined) return;
      observer.observe(outcome.accountName, {
        at: startedAt,
        tokens: windowTokens(outcome),
        costMicros: outcome.costMicros,
      });
    },
  };
}
