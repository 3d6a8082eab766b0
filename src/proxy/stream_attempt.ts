/**
 * The streaming half of an attempt: open the relay, fail over when the
 * stream errs before any content, and finalize the request when it ends.
 */
import type { RequestRun } from "./run.ts";
import { classifyStreamError, classifyTransport } from "../routing/classify.ts";
import { openRelay } from "./relay.ts";
import type { RelayEnd } from "./relay.ts";
import type { AttemptFailure, ProxyDeps, RelayContext } from "./_attempt_types.ts";
import { tooLarge } from "./_too_large.ts";
import { transcodeStream } from "./translate/transcode.ts";
import {
  applyFailure,
  clientGone,
  exhausted,
  priced,
  proxyHeaders,
  shuttingDown,
} from "./_respond.ts";

/** How long a stream's head is held waiting for the first content frame (09-decisions). */
export const STREAM_HOLD_MS = 10_000;
export async function relay(
  deps: ProxyDeps,
  run: RequestRun,
  res: Response,
  /** A content coding nobody could undo, passed on with the bytes. */
  contentEncoding: string | undefined,
  ctx: RelayContext,
): Promise<Response | AttemptFailure> {
  const { account, modelId, transcode } = ctx.input;
  // A pass-through `/v1/responses` stream is Responses events on both sides.
  const passThrough = ctx.input.passThrough === true;
  const opened = await openRelay({
    protocol: passThrough ? "responses" : ctx.input.upstreamProtocol,
    clientProtocol: passThrough ? "responses" : run.start.clientProtocol,
    translator: transcode && transcodeStream(transcode),
    upstream: res,
    abortUpstream: () => ctx.abort(ctx.cause() ?? "idle"),
    isShuttingDown: () => deps.shutdown.aborted,
    shutdown: deps.shutdown,
    idleTimeoutMs: account.provider.idleTimeoutMs,
    deadlines: deps.deadlines,
    holdTimeoutMs: Math.min(STREAM_HOLD_MS, account.provider.idleTimeoutMs),
    maxHoldBytes: deps.maxResponseBodyBytes,
    stripUsageChunk: ctx.input.stripUsage,
    completionPolicy: account.provider.completionPolicy,
    clock: deps.clock,
    onEnd: (end) => finishStream(deps, run, res.status, ctx, end),
  });
  if (!opened.ok) {
    const cause = ctx.cause();
    if (cause === "client") return clientGone(run, ctx.release, ctx.detach, ctx.recordAttempt);
    if (cause === "shutdown") throw shuttingDown(ctx.release, ctx.detach);
    if (opened.reason === "too_large") {
      return tooLarge(deps, run, res.status, ctx.input, ctx.fail);
    }
    const failure = opened.reason === "error_before_content"
      ? classifyStreamError(opened.observer.errorType)
      : classifyTransport(cause === "idle" || cause === "timeout");
    const message = opened.reason === "error_before_content"
      ? `Provider '${account.provider.id}' opened the stream with an error event (${
        opened.observer.errorType ?? "unknown"
      })`
      : `Provider '${account.provider.id}' ended the stream before any content`;
    if (!ctx.input.isLast) return ctx.fail(failure, message);
    ctx.fail(failure, message);
    return exhausted(run, { failure, message }, modelId);
  }
  // Client disconnects after hand-off reach us through the body's cancel(); the
  // request signal is not needed any more.
  ctx.detach();
  // The attempt is counted before the head goes out.
  const headers = proxyHeaders(run, res.headers, run.attempts.length + 1, contentEncoding);
  return new Response(opened.body, { status: res.status, headers });
}

export function finishStream(
  deps: ProxyDeps,
  run: RequestRun,
  status: number,
  ctx: RelayContext,
  end: RelayEnd,
): void {
  ctx.release();
  const { account, modelId } = ctx.input;
  run.facts.firstByteAt = end.firstByteAt;
  run.facts.bytesOut = end.bytesOut;
  const usage = end.observer.usage;
  const costed = priced(deps, run, usage);
  const base = {
    statusCode: status,
    bytesOut: end.bytesOut,
    firstByteAt: end.firstByteAt,
    upstreamRequestId: ctx.upstreamRequestId,
  };
  switch (end.kind) {
    case "complete":
      ctx.recordAttempt(base);
      deps.pool.clearOnSuccess(account.name, modelId);
      if (ctx.input.passThrough) {
        deps.reasoningOwners?.remember(end.observer.encryptedReasoning, account.name);
      }
      run.finish({ status: "completed", statusCode: status, ...costed });
      return;
    case "client_gone":
      ctx.recordAttempt({ ...base, errorClass: "client_disconnected", retryCategory: "none" });
      run.finish({
        status: "cancelled",
        statusCode: 499,
        errorClass: "client_disconnected",
        ...costed,
      });
      return;
    default: {
      const errorClass = end.kind === "upstream_error_event"
        ? `stream_${end.observer.errorType ?? "error"}`
        : `stream_${end.kind}`;
      const message = end.kind === "upstream_error_event"
        ? `Provider '${account.provider.id}' sent an error event mid-stream${
          end.observer.errorMessage === undefined ? "" : `: ${end.observer.errorMessage}`
        }`
        : end.kind === "idle_timeout"
        ? `Provider '${account.provider.id}' went silent mid-stream`
        : end.kind === "shutdown"
        ? "EggPool shut down during the stream"
        : `Provider '${account.provider.id}' cut the stream before it was complete`;
      ctx.recordAttempt({ ...base, errorClass, errorMessage: message, retryCategory: "never" });
      if (end.kind === "truncated" || end.kind === "idle_timeout") {
        applyFailure(deps, account, modelId, classifyTransport(end.kind === "idle_timeout"));
      }
      run.finish({
        status: "error",
        statusCode: status,
        errorClass,
        errorMessage: message,
        ...costed,
      });
    }
  }
}
