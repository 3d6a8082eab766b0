/** The answer when an upstream body is larger than EggPool will hold in memory. */
import { ProxyError } from "../core/errors.ts";
import type { Failure } from "../routing/classify.ts";
import { errorResponse } from "./envelope.ts";
import type { RequestRun } from "./run.ts";
import type { AttemptFailure, AttemptInput, ProxyDeps } from "./_attempt_types.ts";

/**
 * The upstream's body passed `max_response_body_bytes`: a 502, and the
 * account is not penalised (the answer may simply be that big).
 */
export function tooLarge(
  deps: ProxyDeps,
  run: RequestRun,
  status: number,
  input: AttemptInput,
  fail: (failure: Failure, message: string, defer?: string) => AttemptFailure,
): Response {
  const message = `Provider '${input.account.provider.id}' sent a response larger than ` +
    `max_response_body_bytes (${deps.maxResponseBodyBytes} bytes); raise [upstream] ` +
    "max_response_body_bytes if such answers are expected";
  fail({
    class: "client_error",
    retryable: false,
    cooldownMs: 0,
    statusCode: status,
    errorClass: "upstream_response_too_large",
  }, message);
  const err = new ProxyError("upstream_error", message, { status: 502 });
  run.finish({
    status: "error",
    statusCode: 502,
    errorClass: "upstream_response_too_large",
    errorMessage: message,
  });
  return errorResponse(run.start.clientProtocol, err, {
    requestId: run.start.requestId,
    attempts: run.attempts.length,
  });
}
