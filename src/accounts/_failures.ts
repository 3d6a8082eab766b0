/**
 * How failures map onto the pool's state: which count against the circuit,
 * which exclusion a backoff shows as, and the legacy `coolDown` call.
 */
import type { Failure, FailureClass } from "../routing/classify.ts";
import type { BackoffReason } from "./backoffs.ts";
import type { ExclusionReason } from "./decision.ts";

/** Failures that count against the circuit (spec 03 §10): auth, transport, 408, 5xx. */
export const CIRCUIT_CLASSES: ReadonlySet<FailureClass> = new Set<FailureClass>([
  "auth_failed",
  "timeout",
  "transport",
  "server_error",
  "overloaded",
]);

const FAILURE_CLASSES: ReadonlySet<string> = new Set<FailureClass>([
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

/** The exclusion reason a blocking backoff is reported as. */
export const EXCLUSION_OF_BACKOFF: Readonly<Record<BackoffReason, ExclusionReason>> = {
  authentication_failed: "auth_failed",
  rate_limited: "rate_limited",
  quota_exhausted: "quota_exhausted",
  model_unavailable: "model_unavailable",
  upstream_server_error: "cooling_down",
  connect_timeout: "cooling_down",
  connection_failure: "cooling_down",
  protocol_error: "cooling_down",
};

/** Options of the legacy `AccountPool.coolDown` call. */
export interface CoolDownOptions {
  /** Undefined = until the credential changes. */
  cooldownMs: number | undefined;
  /** A `FailureClass` (the handler passes `failure.class`). */
  reason: string;
  modelId?: string;
  /** The classified failure, when the caller has it (richer persisted rows). */
  failure?: Failure;
}

/** Rebuilds a failure from the legacy `coolDown` arguments. */
export function legacyFailure(options: CoolDownOptions): Failure {
  const cls: FailureClass = FAILURE_CLASSES.has(options.reason)
    ? options.reason as FailureClass
    : options.cooldownMs === undefined
    ? "auth_failed"
    : options.modelId !== undefined
    ? "model_unavailable"
    : "server_error";
  return {
    class: cls,
    retryable: true,
    cooldownMs: options.cooldownMs,
    errorClass: options.reason,
  };
}
