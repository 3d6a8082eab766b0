/**
 * The two endings of an attempt that are not a stream: an upstream error
 * status (classified, re-rendered for a transcoded request, passed through or
 * failed over) and a whole JSON answer (usage read, translated when needed).
 */
import type { AccountRuntime } from "../accounts/pool.ts";
import type { Failure } from "../routing/classify.ts";
import {
  classifyResponse,
  classifyTransport,
  failureSignature,
  MODEL_UNAVAILABLE_COOLDOWN_MS,
} from "../routing/classify.ts";
import type { CredentialProbe } from "./credential_probe.ts";
import type { RequestRun } from "./run.ts";
import type { AttemptFailure, Bytes, ProxyDeps, RelayContext } from "./_attempt_types.ts";
import {
  clientGone,
  MAX_ERROR_BODY_BYTES,
  parseJson,
  passThrough,
  priced,
  readCapped,
  readWithin,
  respond,
  shuttingDown,
  transportMessage,
} from "./_respond.ts";
import { encryptedReasoningOf, usageFromJson } from "./usage.ts";
import { tooLarge } from "./_too_large.ts";
import { transcodeError, transcodeResponse } from "./translate/transcode.ts";

/** An upstream answer with an error status: a failure to retry elsewhere, or the client's answer. */
export async function upstreamError(
  deps: ProxyDeps,
  run: RequestRun,
  res: Response,
  ctx: RelayContext,
): Promise<Response | AttemptFailure> {
  const { account, transcode } = ctx.input;
  // The error body gets the same deadline as the head: an upstream that sends
  // an error status and then stalls must not hold the request forever.
  const errTimer = deps.deadlines.add(
    account.provider.headersTimeoutMs,
    () => ctx.abort("timeout"),
  );
  const bytes = await readCapped(res, MAX_ERROR_BODY_BYTES).catch(() => new Uint8Array(0));
  deps.deadlines.clear(errTimer);
  if (ctx.cause() === "client") return clientGone(run, ctx.release, ctx.detach, ctx.recordAttempt);
  if (ctx.cause() === "shutdown") throw shuttingDown(ctx.release, ctx.detach);
  const parsed = parseJson(bytes);
  // Re-rendered in the client's envelope when the account speaks the other protocol (04 §7.3).
  const shown = transcode === undefined ? { headers: res.headers, bytes } : {
    headers: jsonHeaders(res.headers),
    bytes: transcodeError(transcode, res.status, bytes, parsed),
  };
  let failure = classifyResponse(res.status, res.headers, parsed, {
    now: deps.clock(),
    quotaCooldownMs: deps.quotaCooldownMs,
  });
  if (failure.class === "auth_failed" && deps.credentials !== undefined) {
    failure = await confirmAuthFailure(deps.credentials, account, failure);
    // The probe awaited: the client or the server may have gone meanwhile.
    const why = ctx.cause();
    if (why === "client") return clientGone(run, ctx.release, ctx.detach, ctx.recordAttempt);
    if (why === "shutdown") throw shuttingDown(ctx.release, ctx.detach);
  }
  const message = `Provider '${account.provider.id}' answered HTTP ${res.status}`;
  if (failure.retryable) {
    const failed = ctx.fail(failure, message, failureSignature(failure, parsed));
    failed.reply = { status: res.status, headers: shown.headers, bytes: shown.bytes };
    return failed;
  }
  ctx.fail(failure, message);
  run.facts.bytesOut = shown.bytes.byteLength;
  run.finish({
    status: failure.class === "client_error" ? "client_error" : "error",
    statusCode: res.status,
    errorClass: failure.errorClass,
    errorMessage: message,
  });
  return transcode === undefined
    ? passThrough(run, res, bytes)
    : respond(run, res.status, shown.headers, shown.bytes);
}

/** A non-streamed success: the whole body, usage from the upstream's own JSON, then translation. */
export async function completeJson(
  deps: ProxyDeps,
  run: RequestRun,
  res: Response,
  opaque: string | undefined,
  ctx: RelayContext,
): Promise<Response | AttemptFailure> {
  const { account, modelId, transcode } = ctx.input;
  const protocol = ctx.input.upstreamProtocol;
  // Non-streaming success: read the whole body, then extract usage.
  const bodyTimer = deps.deadlines.add(
    account.provider.headersTimeoutMs,
    () => ctx.abort("timeout"),
  );
  let bytes: Bytes | undefined;
  try {
    bytes = await readWithin(res, deps.maxResponseBodyBytes);
  } catch (error) {
    if (ctx.cause() === "client") {
      return clientGone(run, ctx.release, ctx.detach, ctx.recordAttempt);
    }
    if (ctx.cause() === "shutdown") throw shuttingDown(ctx.release, ctx.detach);
    const failure = classifyTransport(ctx.cause() === "timeout");
    return ctx.fail(
      failure,
      `Provider '${account.provider.id}' broke off the response: ${transportMessage(error)}`,
    );
  } finally {
    deps.deadlines.clear(bodyTimer);
  }
  if (bytes === undefined) return tooLarge(deps, run, res.status, ctx.input, ctx.fail);
  ctx.release();
  ctx.detach();
  const firstByteAt = deps.clock();
  run.facts.firstByteAt = firstByteAt;
  run.facts.bytesOut = bytes.byteLength;
  ctx.recordAttempt({
    statusCode: res.status,
    bytesOut: bytes.byteLength,
    firstByteAt,
    upstreamRequestId: ctx.upstreamRequestId,
  });
  deps.pool.clearOnSuccess(account.name, modelId);
  const parsed = parseJson(bytes);
  const usage = usageFromJson(protocol, parsed);
  // Usage and cost come from the upstream's own answer, before any translation.
  const clientBytes = transcode === undefined
    ? bytes
    : transcodeResponse(transcode, parsed) ?? bytes;
  if (clientBytes !== bytes) run.facts.bytesOut = clientBytes.byteLength;
  if (ctx.input.passThrough) {
    // A Response object: its reasoning is bound to this account, and a failed or
    // incomplete one is a terminal failure the client already has (no failover).
    const response = parsed as Record<string, unknown> | undefined;
    deps.reasoningOwners?.remember(encryptedReasoningOf(response?.output), account.name);
    const state = response?.status;
    if (state === "failed" || state === "incomplete") {
      run.finish({
        status: "error",
        statusCode: res.status,
        errorClass: `response_${state}`,
        errorMessage: `Provider '${account.provider.id}' answered a Response with status ${state}`,
        ...priced(deps, run, usage),
      });
      return respond(run, res.status, res.headers, clientBytes, opaque);
    }
  }
  run.finish({ status: "completed", statusCode: res.status, ...priced(deps, run, usage) });
  return respond(run, res.status, res.headers, clientBytes, opaque);
}

/**
 * A 401 parks the account only when its key also fails the models endpoint
 * (issue #12). When the key works there, the refusal is about this request's
 * model: that model rests on this account, the account keeps serving others.
 */
async function confirmAuthFailure(
  probe: CredentialProbe,
  account: AccountRuntime,
  failure: Failure,
): Promise<Failure> {
  if (await probe.check(account) !== "valid") return failure;
  return {
    class: "model_unavailable",
    retryable: true,
    cooldownMs: MODEL_UNAVAILABLE_COOLDOWN_MS,
    statusCode: failure.statusCode,
    errorClass: "upstream_model_denied",
  };
}

/** Upstream headers for a body we rewrote as JSON. */
function jsonHeaders(upstream: Headers): Headers {
  const headers = new Headers(upstream);
  headers.set("content-type", "application/json");
  return headers;
}
