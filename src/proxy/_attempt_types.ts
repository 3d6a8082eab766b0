/** Types shared by the data plane's attempt, response and stream modules. */
import type { HeaderReader } from "../core/headers.ts";
import type { ModelCatalog } from "../catalog/catalog.ts";
import type { AccountPool, AccountRuntime } from "../accounts/pool.ts";
import type { AffinityRouter } from "../accounts/affinity.ts";
import type { UsageSink } from "../stats/types.ts";
import type { Failure } from "../routing/classify.ts";
import type { Price } from "./cost.ts";
import type { Deadlines } from "./deadlines.ts";

/** Bytes backed by a plain ArrayBuffer, as fetch and Response bodies want them. */
export type Bytes = Uint8Array<ArrayBuffer>;

/** Dependencies of {@linkcode createProxy}. */
export interface ProxyDeps {
  catalog: ModelCatalog;
  pool: AccountPool;
  sink: UsageSink;
  clock: () => number;
  price(providerId: string, modelId: string): Price | undefined;
  maxBodyBytes: number;
  /** 1 + `[routing].max_retries_before_stream`. */
  maxAttempts: number;
  quotaCooldownMs: number;
  /** Aborted when shutdown stops waiting: open upstream calls end with an error event. */
  shutdown: AbortSignal;
  log(message: string): void;
  /** Prompt-cache affinity; absent when `[routing].affinity = "off"`. */
  affinity?: AffinityRouter;
  /** Shared coarse timer for header, body and stream-idle timeouts. */
  deadlines: Deadlines;
}

/** A failed attempt that another account may retry. */
export interface AttemptFailure {
  failure: Failure;
  message: string;
}

export interface AttemptInput {
  account: AccountRuntime;
  /** The client's request headers (forwarded minus hop-by-hop and credentials). */
  clientHeaders: HeaderReader;
  modelId: string;
  body: Bytes;
  stripUsage: boolean;
  isLast: boolean;
  estTokens: number;
}

/** Why an upstream call was aborted. */
export type AbortCause = "client" | "timeout" | "idle" | "shutdown";

/** What an attempt learned, as recorded in its `request_attempts` row. */
export interface AttemptFields {
  statusCode?: number;
  errorClass?: string;
  errorMessage?: string;
  retryCategory?: string;
  firstByteAt?: number;
  bytesOut?: number;
  upstreamRequestId?: string;
}

export interface RelayContext {
  input: AttemptInput;
  abort(why: AbortCause): void;
  cause(): AbortCause | undefined;
  release(): void;
  detach(): void;
  recordAttempt(f: AttemptFields): void;
  fail(failure: Failure, message: string): AttemptFailure;
  upstreamRequestId?: string;
}
