/**
 * Request counters for `GET /metrics`, kept in memory and updated once per
 * finalized request (the stats sink's `finish`). Each request costs one or
 * two map lookups keyed by its labels, a few additions and a short bucket
 * search; the text is built only when someone scrapes.
 *
 * Label values stay bounded: providers and accounts come from the config,
 * models are folded to {@linkcode OTHER} unless the catalog knows them, and
 * outcomes and attempt results are fixed sets. No request id is ever a label.
 */
import type { AttemptRecord, RequestOutcome } from "../stats/types.ts";
import type { ExpositionWriter, Labels } from "./text_format.ts";

/** Label value of a model the catalog does not know (a typo, a removed model). */
export const OTHER = "other";
/** Label value of a dimension the request never reached (no account, no model). */
export const NONE = "none";

/** Request duration buckets, in seconds. */
export const LATENCY_BUCKETS_S: readonly number[] = [
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
  300,
];
/** Time-to-first-token buckets, in seconds. */
export const TTFT_BUCKETS_S: readonly number[] = [
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2,
  5,
  10,
  30,
  60,
];

/** What an attempt ended as, beyond the failure classes of `routing/classify.ts`. */
const ATTEMPT_CLASSES: ReadonlySet<string> = new Set([
  "rate_limited",
  "quota_exhausted",
  "auth_failed",
  "model_unavailable",
  "overloaded",
  "server_error",
  "timeout",
  "transport",
  "client_error",
  "pool_timeout",
]);

interface RequestSeries {
  provider: string;
  account: string;
  model: string;
  protocol: string;
  outcome: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  costMicros: number;
}

interface AttemptSeries {
  provider: string;
  account: string;
  model: string;
  outcome: string;
  attempts: number;
}

interface Histogram {
  provider: string;
  model: string;
  /** Per-bucket counts; the last slot is above every bound. */
  counts: Float64Array;
  sum: number;
}

/** Options for {@linkcode ProxyMetrics}. */
export interface ProxyMetricsOptions {
  /** Whether `modelId` is in the catalog; other ids are counted as {@linkcode OTHER}. */
  knownModel(modelId: string): boolean;
}

/** The index of the bucket `value` falls in (`bounds.length` = above every bound). */
function bucketOf(bounds: readonly number[], value: number): number {
  let i = 0;
  while (i < bounds.length && value > bounds[i]) i++;
  return i;
}

/** How an attempt ended, as a bounded label value. */
export function attemptOutcome(a: AttemptRecord): string {
  if (a.errorClass === undefined) return "success";
  if (a.errorClass === "client_disconnected") return "cancelled";
  if (a.retryCategory !== undefined && ATTEMPT_CLASSES.has(a.retryCategory)) {
    return a.retryCategory;
  }
  return "error";
}

/** In-memory request, attempt, token, cost, latency and TTFT counters. */
export class ProxyMetrics {
  readonly #knownModel: (modelId: string) => boolean;
  readonly #requests = new Map<string, RequestSeries>();
  readonly #attempts = new Map<string, AttemptSeries>();
  readonly #latency = new Map<string, Histogram>();
  readonly #ttft = new Map<string, Histogram>();

  constructor(options: ProxyMetricsOptions) {
    this.#knownModel = options.knownModel;
  }

  #model(modelId: string | undefined): string {
    if (modelId === undefined || modelId === "") return NONE;
    return this.#knownModel(modelId) ? modelId : OTHER;
  }

  /** Counts one finalized request. `streamed` decides whether its first byte is a TTFT. */
  observe(o: RequestOutcome, protocol: string, streamed: boolean): void {
    const provider = o.providerId ?? NONE;
    const account = o.accountName ?? NONE;
    const model = this.#model(o.modelId);
    const key = `${provider}\0${account}\0${model}\0${protocol}\0${o.status}`;
    let s = this.#requests.get(key);
    if (s === undefined) {
      s = {
        provider,
        account,
        model,
        protocol,
        outcome: o.status,
        requests: 0,
        inputTokens: 0,
        outputTokens: 0,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
        costMicros: 0,
      };
      this.#requests.set(key, s);
    }
    s.requests++;
    s.inputTokens += o.inputTokens;
    s.outputTokens += o.outputTokens;
    s.cacheReadTokens += o.cacheReadTokens;
    s.cacheWriteTokens += o.cacheWriteTokens;
    s.reasoningTokens += o.reasoningTokens;
    s.costMicros += o.costMicros;
    const pm = `${provider}\0${model}`;
    if (o.latencyMs !== undefined) {
      this.#observe(this.#latency, pm, provider, model, LATENCY_BUCKETS_S, o.latencyMs / 1000);
    }
    if (streamed && o.firstByteMs !== undefined && o.status === "completed") {
      this.#observe(this.#ttft, pm, provider, model, TTFT_BUCKETS_S, o.firstByteMs / 1000);
    }
    const attempts = o.attempts;
    for (let i = 0; i < attempts.length; i++) this.#attempt(attempts[i]);
  }

  #attempt(a: AttemptRecord): void {
    const model = this.#model(a.modelId);
    const outcome = attemptOutcome(a);
    const key = `${a.providerId}\0${a.accountName}\0${model}\0${outcome}`;
    let s = this.#attempts.get(key);
    if (s === undefined) {
      s = { provider: a.providerId, account: a.accountName, model, outcome, attempts: 0 };
      this.#attempts.set(key, s);
    }
    s.attempts++;
  }

  #observe(
    map: Map<string, Histogram>,
    key: string,
    provider: string,
    model: string,
    bounds: readonly number[],
    seconds: number,
  ): void {
    let h = map.get(key);
    if (h === undefined) {
      h = { provider, model, counts: new Float64Array(bounds.length + 1), sum: 0 };
      map.set(key, h);
    }
    h.counts[bucketOf(bounds, seconds)]++;
    h.sum += seconds;
  }

  /** Writes the request families (counters and histograms) to `w`. */
  write(w: ExpositionWriter): void {
    const requests = [...this.#requests.values()];
    w.family(
      "eggpool_requests_total",
      "counter",
      "Client requests finalized, by provider, account, model, client protocol and outcome.",
    );
    for (const s of requests) {
      w.sample("eggpool_requests_total", s.requests, {
        provider: s.provider,
        account: s.account,
        model: s.model,
        protocol: s.protocol,
        outcome: s.outcome,
      });
    }
    w.family(
      "eggpool_attempts_total",
      "counter",
      "Upstream attempts, by provider, account, model and result (success or failure class).",
    );
    for (const s of this.#attempts.values()) {
      w.sample("eggpool_attempts_total", s.attempts, {
        provider: s.provider,
        account: s.account,
        model: s.model,
        outcome: s.outcome,
      });
    }
    // Tokens and cost drop the protocol and outcome labels: summed per provider, account, model.
    const usage = new Map<string, RequestSeries>();
    for (const s of requests) {
      const key = `${s.provider}\0${s.account}\0${s.model}`;
      const u = usage.get(key);
      if (u === undefined) {
        usage.set(key, { ...s });
        continue;
      }
      u.inputTokens += s.inputTokens;
      u.outputTokens += s.outputTokens;
      u.cacheReadTokens += s.cacheReadTokens;
      u.cacheWriteTokens += s.cacheWriteTokens;
      u.reasoningTokens += s.reasoningTokens;
      u.costMicros += s.costMicros;
    }
    w.family(
      "eggpool_tokens_total",
      "counter",
      "Tokens of finalized requests by kind: input (fresh, uncached), output, cache_read, " +
        "cache_write, reasoning (a part of output).",
    );
    for (const u of usage.values()) {
      const base = { provider: u.provider, account: u.account, model: u.model };
      const kinds: Array<[string, number]> = [
        ["input", u.inputTokens],
        ["output", u.outputTokens],
        ["cache_read", u.cacheReadTokens],
        ["cache_write", u.cacheWriteTokens],
        ["reasoning", u.reasoningTokens],
      ];
      for (const [kind, n] of kinds) w.sample("eggpool_tokens_total", n, { ...base, kind });
    }
    w.family(
      "eggpool_cost_usd_total",
      "counter",
      "Cost of finalized requests in US dollars, as priced by EggPool (see the exactness in the stats).",
    );
    for (const u of usage.values()) {
      w.sample("eggpool_cost_usd_total", u.costMicros / 1_000_000, {
        provider: u.provider,
        account: u.account,
        model: u.model,
      });
    }
    this.#writeHistogram(
      w,
      "eggpool_request_duration_seconds",
      "Time from a request's arrival to its final byte, by provider and model.",
      this.#latency,
      LATENCY_BUCKETS_S,
    );
    this.#writeHistogram(
      w,
      "eggpool_time_to_first_token_seconds",
      "Time from arrival to the first content byte of completed streamed requests.",
      this.#ttft,
      TTFT_BUCKETS_S,
    );
  }

  #writeHistogram(
    w: ExpositionWriter,
    name: string,
    help: string,
    map: Map<string, Histogram>,
    bounds: readonly number[],
  ): void {
    w.family(name, "histogram", help);
    for (const h of map.values()) {
      const labels: Labels = { provider: h.provider, model: h.model };
      w.histogram(name, bounds, h.counts, h.sum, labels);
    }
  }
}
