/** Types shared by the data plane's attempt, response and stream modules. */
import type { HeaderReader } from "../core/headers.ts";
import type { ModelCatalog } from "../catalog/catalog.ts";
import type { AccountPool, AccountRuntime } from "../accounts/pool.ts";
import type { AffinityRouter } from "../accounts/affinity.ts";
import type { UsageSink } from "../stats/types.ts";
import type { Failure } from "../routing/classify.ts";
import type { Price } from "./cost.ts";
import type { Deadlines } from "./deadlines.ts";
import type { CredentialProbe } from "./credential_probe.ts";
import type { Protocol } from "../core/protocol.ts";
import type { CapabilityBook } from "../routing/capabilities.ts";
import type { Loss, TranscoderSettings } from "./translate/types.ts";
import type { Transcoding } from "./translate/transcode.ts";
import type { ReasoningOwners } from "./responses_native.ts";

/** Bytes backed by a plain ArrayBuffer, as fetch and Response bodies want them. */
export type Bytes = Uint8Array<ArrayBuffer>;

/** Dependencies of {@linkcode createProxy}. */
export interface ProxyDeps {
  catalog: ModelCatalog;
  pool: AccountPool;
  sink: UsageSink;
  clock: () => number;
  price(providerId: string, modelId: string): Price | undefined;
  /** `[pricing] fallback = "off"`: unpriced usage is not estimated. */
  noPriceFallback?: boolean;
  maxBodyBytes: number;
  /** `[server].body_timeout_s` in ms: a body slower than this gets a 408. */
  bodyTimeoutMs?: number;
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
  /**
   * `[upstream].max_response_body_bytes`: largest non-streamed body, or
   * stream head held before its first content frame, kept in memory.
   */
  maxResponseBodyBytes: number;
  /** Checks a key after a 401 before the account is parked; absent = park at once. */
  credentials?: CredentialProbe;
  /** `[transcoder]`; absent when `enabled = false` (a model of the other protocol is then a 400). */
  transcoder?: TranscoderSettings;
  /** `[model_capabilities]`: the thinking gate and per-model transcoding. */
  capabilities?: CapabilityBook;
  /** Providers with `responses_path` (`createProxy` derives them from the pool when absent). */
  responsesProviders?: ReadonlySet<string>;
  /** Who minted each encrypted reasoning blob (`createProxy` makes one when absent). */
  reasoningOwners?: ReasoningOwners;
}

/** A failed attempt that another account may retry. */
export interface AttemptFailure {
  failure: Failure;
  message: string;
  /**
   * Set when the failure was not applied to the account yet, because the
   * request itself may have caused it (issue #12): the handler applies it
   * unless the next account fails the same request the same way.
   */
  deferred?: DeferredFailure;
  /** The upstream's error answer, passed through when no other account remains. */
  reply?: UpstreamReply;
}

/** A failure held back until the next attempt tells whose fault it was. */
export interface DeferredFailure {
  account: AccountRuntime;
  modelId: string;
  failure: Failure;
  /** Status and error type/code: the same request failing the same way shares it. */
  signature: string;
}

/** An upstream error response already read, ready to pass through. */
export interface UpstreamReply {
  status: number;
  headers: Headers;
  bytes: Bytes;
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
  /** The protocol the account speaks for this model (the client's unless transcoding). */
  upstreamProtocol: Protocol;
  /** Set when the account speaks the other protocol: `body` is already translated. */
  transcode?: Transcoding;
  /** What the client surface's own translation dropped (`/v1/responses`). */
  surfaceWarnings?: string;
  surfaceLosses?: readonly Loss[];
  /**
   * `/v1/responses` passed through to the account's `responses_path`: `body`
   * is the client's own, and the answer is Responses-shaped.
   */
  passThrough?: boolean;
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
  fail(failure: Failure, message: string, defer?: string): AttemptFailure;
  upstreamRequestId?: string;
}
