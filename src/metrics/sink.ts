/** Feeds finalized requests into {@linkcode ProxyMetrics} on their way to the stats sink. */
import type { RequestOutcome, RequestStart, UsageSink } from "../stats/types.ts";
import type { ProxyMetrics } from "./proxy_metrics.ts";

/** Wraps `sink` so every finished request is also counted in `metrics`. */
export function withMetrics(sink: UsageSink, metrics: ProxyMetrics): UsageSink {
  return {
    begin(start: RequestStart): void {
      sink.begin(start);
    },
    finish(requestId: string, outcome: RequestOutcome): void {
      sink.finish(requestId, outcome);
      metrics.observe(outcome, outcome.clientProtocol ?? "none", outcome.streamed === true);
    },
  };
}
