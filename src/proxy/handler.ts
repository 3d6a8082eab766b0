/**
 * The data plane: intake (auth is already done), model resolution, the
 * attempt loop with failover before any byte reaches the client, and
 * exactly-once finalization through {@linkcode RequestRun}.
 */
import { ProxyError } from "../core/errors.ts";
import type { Protocol } from "../core/protocol.ts";
import { NATIVE_SURFACE } from "../core/protocol.ts";
import type { AccountRuntime } from "../accounts/pool.ts";
import type { Failure } from "../routing/classify.ts";
import { checkContextLimit } from "../routing/context_limit.ts";
import { estimateReservationTokens } from "../routing/scorer.ts";
import { newRequestId } from "../core/ids.ts";
import type { HeaderReader } from "../core/headers.ts";
import type { PriorFailure } from "../accounts/affinity.ts";
import { sessionKeyOf } from "../routing/session_key.ts";
import { classifyTransport } from "../routing/classify.ts";
import { CLIENT_CLOSED_STATUS, readBoundedBody } from "./body.ts";
import { errorResponse, invalidRequest } from "./envelope.ts";
import { RequestRun } from "./run.ts";
import type {
  AbortCause,
  AttemptFailure,
  AttemptFields,
  AttemptInput,
  Bytes,
  DeferredFailure,
  ProxyDeps,
  RelayContext,
  UpstreamReply,
} from "./_attempt_types.ts";
import { completeJson, upstreamError } from "./_attempt_reply.ts";
import {
  applyFailure,
  clientGone,
  exhausted,
  parseJson,
  respond,
  shuttingDown,
  transportMessage,
} from "./_respond.ts";
import { relay } from "./stream_attempt.ts";
import { joinUrl, upstreamHeaders } from "./upstream.ts";
import type { UpstreamTarget } from "./upstream.ts";
import { boundText, MAX_ID_CHARS } from "../stats/bounds.ts";
import { withIncludeUsage } from "./include_usage.ts";
import { encodingPlan, inflated } from "./encoding.ts";
import { resolveRoutes } from "./_routes.ts";
import type { Routes } from "./_routes.ts";
import { dropForeignHeaders } from "./translate/transcode.ts";
import { createCountTokens } from "./count_tokens.ts";
import { serveResponses } from "./translate/responses_endpoint.ts";
import type { ClientSurface } from "./translate/responses_endpoint.ts";
import type { Loss } from "./translate/types.ts";
import { NativeBody, ReasoningOwners, withResponsesTier } from "./responses_native.ts";

/**
 * Pause before a pinned account's one retry after an overload (issue #5): a
 * brief provider hiccup should not cost the conversation its prompt cache.
 */
const PINNED_RETRY_DELAY_MS = 200;

/** The data plane's entry point for one client request. */
export interface Proxy {
  handle(
    req: Request,
    protocol: Protocol,
    clientIp: string | undefined,
    headers?: HeaderReader,
    surface?: ClientSurface,
  ): Promise<Response>;
  /** `POST /v1/responses`: the chat pipeline with the Responses API on the client's side. */
  responses(req: Request, clientIp: string | undefined, headers?: HeaderReader): Promise<Response>;
  /** `POST /v1/messages/count_tokens` (`count_tokens.ts`): never a stats row. */
  countTokens(req: Request, headers?: HeaderReader): Promise<Response>;
}

/** Builds the data plane. */
export function createProxy(deps: ProxyDeps): Proxy {
  // Providers that serve `/v1/responses` themselves (`responses_path`): its requests pass through.
  const serving = new Set<string>();
  for (const a of deps.pool.accounts) if (a.provider.responsesPath) serving.add(a.provider.id);
  deps = {
    ...deps,
    responsesProviders: deps.responsesProviders ?? serving,
    reasoningOwners: deps.reasoningOwners ?? new ReasoningOwners(),
  };
  const proxy: Proxy = {
    countTokens: createCountTokens(deps),
    responses: (req, clientIp, headers = req.headers) =>
      serveResponses(
        deps.transcoder,
        (surface) => proxy.handle(req, "openai", clientIp, headers, surface),
      ),
    async handle(req, protocol, clientIp, headers = req.headers, surface) {
      const run = new RequestRun(deps.sink, deps.clock, {
        requestId: newRequestId(),
        startedAt: deps.clock(),
        clientProtocol: protocol,
        clientSurface: surface?.name ?? NATIVE_SURFACE[protocol],
        requestedModel: "",
        streamed: false,
        bytesIn: 0,
        clientIp,
      });
      try {
        return await proxyRequest(deps, run, req, headers, surface);
      } catch (error) {
        const err = error instanceof ProxyError
          ? error
          : new ProxyError("internal", "Internal proxy error", { status: 500, cause: error });
        if (!(error instanceof ProxyError)) deps.log(`Internal error: ${describe(error)}`);
        const gone = err.status === CLIENT_CLOSED_STATUS; // the client cut its own upload
        run.finish({
          status: gone ? "cancelled" : err.status < 500 ? "client_error" : "error",
          statusCode: err.status,
          errorClass: gone
            ? "client_disconnected"
            : err.status < 500
            ? "local_validation"
            : "local_error",
          errorMessage: err.message,
        });
        return errorResponse(protocol, err, {
          requestId: run.start.requestId,
          attempts: run.attempts.length,
        });
      }
    },
  };
  return proxy;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

interface Intake {
  body: Record<string, unknown>;
  bytes: Bytes;
  modelId: string;
  /** The provider named by `model/provider`, if any. */
  providerId?: string;
  routes: Routes;
  /** What a client surface's translation dropped (the warning header). */
  surfaceWarnings?: string;
  surfaceLosses?: readonly Loss[];
  /** The client surface's own body (`/v1/responses`), for providers that serve it natively. */
  native?: { body: Record<string, unknown>; bytes: Bytes };
  /** The surface's translation refused as lossy: only pass-through accounts may serve. */
  surfaceRefused?: ProxyError;
}

async function readIntake(
  deps: ProxyDeps,
  run: RequestRun,
  req: Request,
  headers: HeaderReader,
  surface: ClientSurface | undefined,
): Promise<Intake> {
  const protocol = run.start.clientProtocol;
  const bytes = await readBoundedBody(
    req,
    deps.maxBodyBytes,
    headers,
    deps.deadlines,
    deps.bodyTimeoutMs,
  );
  run.start.bytesIn = bytes.byteLength;
  const body = parseJson(bytes); // undefined only when it is not JSON
  if (body === undefined) {
    throw invalidRequest("Invalid JSON: the request body could not be parsed");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalidRequest("Invalid JSON: the request body must be a JSON object");
  }
  let obj = body as Record<string, unknown>;
  let bodyBytes = bytes;
  let surfaceWarnings: string | undefined;
  let surfaceLosses: readonly Loss[] | undefined;
  let native: Intake["native"];
  let surfaceRefused: ProxyError | undefined;
  if (surface !== undefined) {
    native = { body: obj, bytes };
    // Another API's body (`/v1/responses`) runs as the chat body it translates to.
    const s = surface.toChat(obj);
    obj = s.body;
    surfaceWarnings = s.warnings;
    surfaceLosses = s.losses;
    surfaceRefused = s.refused;
    bodyBytes = new TextEncoder().encode(JSON.stringify(obj));
  }
  if (obj.stream !== undefined && obj.stream !== null && typeof obj.stream !== "boolean") {
    throw invalidRequest("Invalid stream value: must be a boolean", "stream");
  }
  run.start.streamed = obj.stream === true;
  if (typeof obj.model !== "string" || obj.model.trim() === "") {
    throw invalidRequest('Missing model field: set "model" to one of GET /v1/models', "model");
  }
  run.start.requestedModel = obj.model;
  const ref = deps.catalog.parseRef(obj.model);
  run.facts.modelId = ref.modelId;
  const all = deps.catalog.entries(ref);
  if (all.length === 0) {
    // A model the config names for a provider whose list failed is an outage, not a typo.
    const down = deps.catalog.unavailable(ref);
    if (down.length > 0) {
      const why = down.map((d) => `provider '${d.providerId}' has no model list (${d.reason})`);
      throw new ProxyError(
        "no_capacity",
        `Model '${boundText(ref.modelId, MAX_ID_CHARS)}' is unavailable: ${why.join("; ")}`,
        { status: 503, provider: down[0].providerId },
      );
    }
    // A model nobody configured: still a 404, but when some provider's list is
    // missing the model may be one of its, and the client should hear why.
    const failing = deps.catalog.failing();
    const hint = failing.length === 0
      ? ""
      : `; the model lists of ${
        failing.map((f) => `provider '${f.providerId}' (${f.reason})`).join(", ")
      } could not be fetched, so it may be one of theirs`;
    throw new ProxyError(
      "not_found",
      `Model '${boundText(ref.modelId, MAX_ID_CHARS)}' not found${hint}`,
      { status: 404, param: "model" },
    );
  }
  const routes = resolveRoutes(
    all,
    protocol,
    { body: obj, modelId: ref.modelId },
    deps.transcoder,
    deps.capabilities,
  );
  checkShape(obj);
  const limit = checkContextLimit({
    modelId: ref.modelId,
    protocol,
    entries: routes.entries,
    body: obj,
    bodyBytes: bytes.byteLength,
  });
  if (!limit.ok) throw invalidRequest(limit.message);
  return {
    body: obj,
    bytes: bodyBytes,
    modelId: ref.modelId,
    providerId: ref.providerId,
    routes,
    surfaceWarnings,
    surfaceLosses,
    native,
    surfaceRefused,
  };
}

/**
 * The request's basic shape, checked before any account sees it: a body an
 * upstream cannot parse may make it answer 500, and that must not cost the
 * pool its accounts (issue #12). Only what both protocols require is checked.
 */
function checkShape(body: Record<string, unknown>): void {
  const messages = body.messages;
  if (!Array.isArray(messages)) {
    throw invalidRequest(
      'Invalid messages field: "messages" must be an array of message objects',
      "messages",
    );
  }
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (typeof m !== "object" || m === null || Array.isArray(m)) {
      throw invalidRequest(
        `Invalid messages field: messages[${i}] must be an object with a "role"`,
        "messages",
      );
    }
  }
  if (body.tools !== undefined && body.tools !== null && !Array.isArray(body.tools)) {
    throw invalidRequest('Invalid tools field: "tools" must be an array', "tools");
  }
}

/** The body sent upstream: the client's bytes unless the model id or usage flag had to change. */
function upstreamBody(
  intake: Intake,
  protocol: Protocol,
): { bytes: Bytes; stripUsage: boolean } {
  let body = intake.body;
  let changed = false;
  if (body.model !== intake.modelId) {
    body = { ...body, model: intake.modelId };
    changed = true;
  }
  let stripUsage = false;
  if (protocol === "openai" && body.stream === true) {
    const r = withIncludeUsage(body);
    if (r.injected) {
      body = r.body;
      stripUsage = true;
      changed = true;
    }
  }
  return {
    bytes: changed ? new TextEncoder().encode(JSON.stringify(body)) : intake.bytes,
    stripUsage,
  };
}

async function proxyRequest(
  deps: ProxyDeps,
  run: RequestRun,
  req: Request,
  headers: HeaderReader,
  surface?: ClientSurface,
): Promise<Response> {
  const protocol = run.start.clientProtocol;
  const intake = await readIntake(deps, run, req, headers, surface);
  let { routes } = intake;
  // `/v1/responses`: providers with `responses_path` get the client's own body (pass-through).
  let passThrough: { providers: ReadonlySet<string>; body: NativeBody } | undefined;
  if (intake.native !== undefined && deps.responsesProviders!.size > 0) {
    const split = withResponsesTier(
      routes,
      deps.responsesProviders!,
      deps.transcoder?.preferNative ?? true,
    );
    routes = split.routes;
    if (split.native.size > 0 && intake.surfaceRefused !== undefined) {
      // Translation would lose fields `loss_policy = "reject"` keeps: pass-through accounts only.
      routes = {
        ...routes,
        providers: split.native,
        tiers: [{ providers: split.native, protocol: "openai" }],
      };
    }
    if (split.native.size > 0) {
      passThrough = {
        providers: split.native,
        body: new NativeBody(intake.native.body, intake.modelId, intake.native.bytes),
      };
    }
  }
  if (passThrough === undefined && intake.surfaceRefused !== undefined) throw intake.surfaceRefused;
  const session = deps.affinity && sessionKeyOf(headers, intake.body);
  run.start.sessionKeyHash = session?.hash;
  run.begin();
  const out = upstreamBody(intake, protocol);
  const providers = routes.providers;
  const estTokens = estimateReservationTokens(intake.bytes.byteLength);
  const attempted = new Set<string>();
  let last: AttemptFailure | undefined;
  // A failure that may be the request's own fault, applied once another account tells.
  let pending: DeferredFailure | undefined;
  let prior: PriorFailure | undefined;
  let retryPinned: AccountRuntime | undefined;
  let pinnedRetried = false;
  for (let i = 0; i < deps.maxAttempts; i++) {
    // Re-decided per attempt: the failed account is excluded and its backoff is already applied.
    let decision = deps.pool.decide({
      modelId: intake.modelId,
      providerIds: routes.tiers[0].providers,
      requestedProviderId: intake.providerId,
      protocol: routes.tiers[0].protocol ?? protocol,
      clientProtocol: protocol,
      estTokens,
      attempted,
    });
    // prefer_native: the transcoded providers only when no native account can serve.
    for (let t = 1; decision.candidates.length === 0 && t < routes.tiers.length; t++) {
      decision = deps.pool.decide({
        modelId: intake.modelId,
        providerIds: routes.tiers[t].providers,
        requestedProviderId: intake.providerId,
        protocol: routes.tiers[t].protocol,
        clientProtocol: protocol,
        estTokens,
        attempted,
      });
    }
    const choice = retryPinned !== undefined
      ? { account: retryPinned, pinned: true }
      : deps.affinity !== undefined
      ? deps.affinity.choose(session?.hash, decision, { firstAttempt: i === 0, prior })
      : decision.candidates[0] && { account: decision.candidates[0].account, pinned: false };
    retryPinned = undefined;
    const account = choice?.account;
    if (account === undefined) break;
    attempted.add(account.name);
    run.decisions.push({
      attemptNumber: run.attempts.length + 1,
      decision,
      selected: account.name,
    });
    const upstreamProtocol = routes.upstreamOf?.get(account.provider.id) ?? protocol;
    const transcode = upstreamProtocol === protocol ? undefined : routes.transcode;
    const native = passThrough?.providers.has(account.provider.id)
      ? passThrough.body.forAccount(account.name, deps.reasoningOwners!)
      : undefined;
    const result = await attempt(deps, run, req, {
      account,
      clientHeaders: headers,
      modelId: intake.modelId,
      body: native?.bytes ?? transcode?.bytes ?? out.bytes,
      stripUsage: native === undefined && transcode === undefined && out.stripUsage,
      estTokens,
      upstreamProtocol,
      transcode: native === undefined ? transcode : undefined,
      passThrough: native !== undefined,
      surfaceWarnings: native === undefined ? intake.surfaceWarnings : native.dropped,
      surfaceLosses: native === undefined ? intake.surfaceLosses : undefined,
      // Last when no other account remains (a forced pinned retry is outside the candidates).
      isLast: i === deps.maxAttempts - 1 ||
        !decision.candidates.some((c) => c.account !== account),
    });
    if (result instanceof Response) {
      // The answer is already the client surface's own: it must not be translated back.
      if (native !== undefined && surface !== undefined) surface.passedThrough = true;
      // Another account served it (or failed differently): the held failure was the account's.
      if (pending !== undefined && !(result.status >= 400 && result.status < 500)) {
        applyDeferred(deps, pending);
      }
      return result;
    }
    if (pending !== undefined && result.deferred?.signature === pending.signature) {
      // Two accounts failed this request the same way: the request is at fault, not them.
      return rejectedRequest(run, result);
    }
    if (pending !== undefined) applyDeferred(deps, pending);
    pending = result.deferred;
    last = result;
    prior = { account: account.name, failureClass: result.failure.class };
    if (choice?.pinned && result.failure.class === "overloaded" && !pinnedRetried) {
      pinnedRetried = true;
      retryPinned = account;
      await new Promise((r) => setTimeout(r, PINNED_RETRY_DELAY_MS));
    }
  }
  if (pending !== undefined) applyDeferred(deps, pending);
  if (last === undefined) return noCapacity(deps, run, providers, intake.modelId);
  // No other account remains: the last upstream answer goes back as it came (spec 03 §9).
  if (last.reply !== undefined) return lastReply(run, last, last.reply);
  return exhausted(run, last, intake.modelId);
}

function applyDeferred(deps: ProxyDeps, d: DeferredFailure): void {
  applyFailure(deps, d.account, d.modelId, d.failure);
}

function lastReply(run: RequestRun, last: AttemptFailure, reply: UpstreamReply): Response {
  run.facts.bytesOut = reply.bytes.byteLength;
  run.finish({
    status: last.failure.class === "client_error" ? "client_error" : "error",
    statusCode: reply.status,
    errorClass: last.failure.errorClass,
    errorMessage: last.message,
  });
  return respond(run, reply.status, reply.headers, reply.bytes);
}

/**
 * The same request failed the same way on two accounts: its answer goes back,
 * no account rests. Still an error in the stats: a provider-wide outage looks
 * the same from here, and the client did get a failure.
 */
function rejectedRequest(run: RequestRun, last: AttemptFailure): Response {
  const reply = last.reply!;
  run.facts.bytesOut = reply.bytes.byteLength;
  run.finish({
    status: "error",
    statusCode: reply.status,
    errorClass: "upstream_rejected_request",
    errorMessage: `${last.message} on two accounts alike: the request itself is the likely cause`,
  });
  return respond(run, reply.status, reply.headers, reply.bytes);
}

function noCapacity(
  deps: ProxyDeps,
  run: RequestRun,
  providers: ReadonlySet<string>,
  modelId: string,
): Response {
  const wait = deps.pool.soonestRetryMs(providers, modelId);
  const err = wait !== undefined
    ? new ProxyError(
      "rate_limited",
      `Every account for model '${modelId}' is rate-limited or cooling down; retry later`,
      { status: 429, retryAfterMs: wait },
    )
    : new ProxyError("no_capacity", `No accounts available for model '${modelId}'`, {
      status: 503,
    });
  run.finish({
    status: "error",
    statusCode: err.status,
    errorClass: "no_capacity",
    errorMessage: err.message,
  });
  return errorResponse(run.start.clientProtocol, err, { requestId: run.start.requestId });
}

/** Joined upstream URLs by base URL and path: both come from the config, so this stays small. */
const urlCache = new Map<string, Map<string, string>>();

function upstreamUrl(baseUrl: string, path: string): string {
  let byPath = urlCache.get(baseUrl);
  if (byPath === undefined) urlCache.set(baseUrl, byPath = new Map());
  let url = byPath.get(path);
  if (url === undefined) byPath.set(path, url = joinUrl(baseUrl, path));
  return url;
}

function targetFor(
  account: AccountRuntime,
  protocol: Protocol,
  modelId: string,
  passThrough?: boolean,
): UpstreamTarget {
  const p = account.provider;
  const path = passThrough && p.responsesPath !== undefined
    ? p.responsesPath
    : p.modelPaths.get(modelId)?.[protocol] ?? p.paths[protocol];
  return {
    url: upstreamUrl(p.baseUrl, path),
    protocol,
    auth: p.auth,
    key: account.key,
    headers: p.headers,
    client: account.client,
  };
}

/** One upstream attempt on one account: a Response for the client, or a retryable failure. */
async function attempt(
  deps: ProxyDeps,
  run: RequestRun,
  req: Request,
  input: AttemptInput,
): Promise<Response | AttemptFailure> {
  const { account, modelId, transcode } = input;
  const protocol = input.upstreamProtocol;
  const target = targetFor(account, protocol, modelId, input.passThrough);
  const startedAt = deps.clock();
  const number = run.attempts.length + 1;
  Object.assign(run.facts, {
    accountName: account.name,
    providerId: account.provider.id,
    upstreamProtocol: protocol,
    transcodeWarnings: joinWarnings(input.surfaceWarnings, transcode?.warnings),
    transcodeLosses: joinLosses(input.surfaceLosses, transcode?.losses),
  });

  const controller = new AbortController();
  let cause: AbortCause | undefined;
  const abort = (why: AbortCause) => {
    cause ??= why;
    controller.abort();
  };
  const onClient = () => abort("client");
  const onShutdown = () => abort("shutdown");
  req.signal.addEventListener("abort", onClient);
  deps.shutdown.addEventListener("abort", onShutdown);
  const detach = () => {
    req.signal.removeEventListener("abort", onClient);
    deps.shutdown.removeEventListener("abort", onShutdown);
  };
  const leave = deps.pool.acquire(account.name, { estTokens: input.estTokens });
  const slots = account.provider.slots;
  let slotHeld = false;
  const release = () => {
    leave();
    if (slotHeld) {
      slotHeld = false;
      slots!.release();
    }
  };
  const recordAttempt = (fields: AttemptFields) => {
    const now = deps.clock();
    run.attempts.push({
      attemptNumber: number,
      accountName: account.name,
      providerId: account.provider.id,
      modelId,
      upstreamProtocol: protocol,
      startedAt,
      completedAt: now,
      statusCode: fields.statusCode,
      errorClass: fields.errorClass,
      errorMessage: fields.errorMessage,
      retryCategory: fields.retryCategory,
      latencyMs: now - startedAt,
      firstByteMs: fields.firstByteAt === undefined ? undefined : fields.firstByteAt - startedAt,
      bytesOut: fields.bytesOut ?? 0,
      upstreamRequestId: fields.upstreamRequestId,
    });
  };
  const fail = (failure: Failure, message: string, defer?: string): AttemptFailure => {
    release();
    detach();
    recordAttempt({
      statusCode: failure.statusCode,
      errorClass: failure.errorClass,
      errorMessage: message,
      retryCategory: failure.class,
    });
    if (defer === undefined) {
      applyFailure(deps, account, modelId, failure);
      return { failure, message };
    }
    return { failure, message, deferred: { account, modelId, failure, signature: defer } };
  };

  if (slots !== undefined) {
    slotHeld = slots.tryTake() || await slots.wait(controller.signal) === true;
    if (!slotHeld) {
      if (cause === "client") return clientGone(run, release, detach, recordAttempt);
      if (cause === "shutdown") throw shuttingDown(release, detach);
      return fail(
        {
          class: "pool_timeout",
          retryable: true,
          cooldownMs: 0,
          errorClass: "upstream_pool_timeout",
        },
        `All ${slots.max} connections to provider '${account.provider.id}' stayed busy for ` +
          `${
            slots.waitMs / 1000
          } s; raise its max_connections or pool_timeout_s if this load is normal`,
      );
    }
  }
  const headTimer = deps.deadlines.add(account.provider.headersTimeoutMs, () => abort("timeout"));
  let res: Response;
  try {
    const sent = upstreamHeaders(input.clientHeaders, target);
    if (transcode !== undefined) dropForeignHeaders(sent, protocol);
    res = await fetch(target.url, {
      method: "POST",
      headers: sent,
      body: input.body,
      signal: controller.signal,
      client: target.client,
    });
  } catch (error) {
    deps.deadlines.clear(headTimer);
    if (cause === "client") return clientGone(run, release, detach, recordAttempt);
    if (cause === "shutdown") throw shuttingDown(release, detach);
    const failure = classifyTransport(cause === "timeout");
    const message = cause === "timeout"
      ? `No response from provider '${account.provider.id}' within ${
        Math.round(account.provider.headersTimeoutMs / 1000)
      } s`
      : `Cannot reach provider '${account.provider.id}': ${transportMessage(error)}`;
    return fail(failure, message);
  }
  deps.deadlines.clear(headTimer);
  const upstreamRequestId = res.headers.get("x-request-id") ?? res.headers.get("request-id") ??
    undefined;
  run.facts.upstreamRequestId = upstreamRequestId;

  const ctx: RelayContext = {
    input,
    abort,
    cause: () => cause,
    release,
    detach,
    recordAttempt,
    fail,
    upstreamRequestId,
  };
  if (res.status >= 400) return await upstreamError(deps, run, res, ctx);

  const encoding = res.headers.get("content-encoding");
  const plan = encodingPlan(encoding);
  if (plan === "inflate") res = inflated(res);
  // A coding nobody can undo goes to the client with its header.
  const opaque = plan === "opaque" ? encoding! : undefined;

  if (run.start.streamed && res.body !== null) return await relay(deps, run, res, opaque, ctx);
  return await completeJson(deps, run, res, opaque, ctx);
}

function joinLosses(
  a: readonly Loss[] | undefined,
  b: readonly Loss[] | undefined,
): readonly Loss[] | undefined {
  return a === undefined || a.length === 0 ? b : b === undefined ? a : [...a, ...b];
}

function joinWarnings(a: string | undefined, b: string | undefined): string | undefined {
  return a === undefined ? b : b === undefined ? a : `${a}, ${b}`;
}
