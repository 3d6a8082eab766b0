/**
 * `POST /v1/messages/count_tokens`, which Claude Code and the Anthropic SDK
 * call to budget a conversation. The body is checked like a Messages
 * request; then, when an account that speaks Anthropic serves the model, the
 * pool's usual first choice (backoffs, circuits and disabled accounts left
 * out) is asked once at `<anthropic_path>/count_tokens`. Any failure there,
 * or no such account, and the answer is the local estimate of
 * `token_estimate.ts`: a model that exists never gets an error.
 *
 * A count spends no quota and produces no completion, so it writes no stats
 * row and counts in no metric; an upstream failure on it puts no account in
 * backoff (providers limit counting apart from completions). The answer says
 * where the number came from in `x-proxy-token-count-source`.
 */
import type { HeaderReader } from "../core/headers.ts";
import { ProxyError } from "../core/errors.ts";
import type { ModelRef } from "../catalog/catalog.ts";
import type { AccountRuntime } from "../accounts/pool.ts";
import { boundText, MAX_ID_CHARS } from "../stats/bounds.ts";
import { readBoundedBody } from "./body.ts";
import { errorResponse, invalidRequest } from "./envelope.ts";
import { parseJson, readWithin } from "./_respond.ts";
import { joinUrl, upstreamHeaders } from "./upstream.ts";
import type { Bytes, ProxyDeps } from "./_attempt_types.ts";
import { estimateInputTokens } from "./token_estimate.ts";

/** Response header naming the count's source: `upstream` or `estimate`. */
export const TOKEN_COUNT_SOURCE_HEADER = "x-proxy-token-count-source";
/** With an estimate: why no upstream count was used (`no_anthropic_account`, `upstream_status_429`...). */
export const TOKEN_COUNT_FALLBACK_HEADER = "x-proxy-token-count-fallback";
/** Largest count answer read from an upstream; a real one is a few dozen bytes. */
const MAX_COUNT_BYTES = 65_536;

/** What the HTTP layer calls. */
export type CountTokensHandler = (req: Request, headers?: HeaderReader) => Promise<Response>;

/** Builds the handler over the data plane's dependencies. */
export function createCountTokens(deps: ProxyDeps): CountTokensHandler {
  return async (req, headers = req.headers) => {
    try {
      return await countTokens(deps, req, headers);
    } catch (error) {
      const err = error instanceof ProxyError
        ? error
        : new ProxyError("internal", "Internal proxy error", { status: 500, cause: error });
      if (!(error instanceof ProxyError)) {
        deps.log(`count_tokens failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      return errorResponse("anthropic", err);
    }
  };
}

async function countTokens(
  deps: ProxyDeps,
  req: Request,
  headers: HeaderReader,
): Promise<Response> {
  const bytes = await readBoundedBody(
    req,
    deps.maxBodyBytes,
    headers,
    deps.deadlines,
    deps.bodyTimeoutMs,
  );
  const body = checkedBody(parseJson(bytes), bytes.byteLength);
  const ref = deps.catalog.parseRef(body.model as string);
  const entries = deps.catalog.entries(ref);
  if (entries.length === 0 && deps.catalog.unavailable(ref).length === 0) {
    throw new ProxyError(
      "not_found",
      `Model '${boundText(ref.modelId, MAX_ID_CHARS)}' not found`,
      { status: 404, param: "model" },
    );
  }
  const providers = new Set(
    entries.filter((e) => e.protocol === "anthropic").map((e) => e.providerId),
  );
  if (providers.size === 0) return estimated(body, "no_anthropic_account");
  const account = deps.pool.decide({
    modelId: ref.modelId,
    providerIds: providers,
    requestedProviderId: ref.providerId,
    protocol: "anthropic",
    clientProtocol: "anthropic",
  }).candidates[0]?.account;
  if (account === undefined) return estimated(body, "no_eligible_account");
  const outBody = body.model === ref.modelId
    ? bytes
    : new TextEncoder().encode(JSON.stringify({ ...body, model: ref.modelId })) as Bytes;
  const asked = await askAccount(deps, account, ref, outBody, headers, req.signal);
  if (typeof asked === "string") return estimated(body, asked);
  return new Response(JSON.stringify(asked), {
    headers: { "content-type": "application/json", [TOKEN_COUNT_SOURCE_HEADER]: "upstream" },
  });
}

/** The parsed body when it is a Messages request; a 400 naming the field otherwise. */
function checkedBody(parsed: unknown, size: number): Record<string, unknown> {
  if (parsed === undefined) {
    throw invalidRequest(
      size === 0
        ? "Invalid JSON: the request body is empty"
        : "Invalid JSON: the request body could not be parsed",
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw invalidRequest("Invalid JSON: the request body must be a JSON object");
  }
  const body = parsed as Record<string, unknown>;
  if (typeof body.model !== "string" || body.model.trim() === "") {
    throw invalidRequest('Missing model field: set "model" to one of GET /v1/models', "model");
  }
  if (!Array.isArray(body.messages)) {
    throw invalidRequest(
      'Invalid messages field: "messages" must be an array of message objects',
      "messages",
    );
  }
  body.messages.forEach((m, i) => {
    if (typeof m !== "object" || m === null || Array.isArray(m) || typeof m.role !== "string") {
      throw invalidRequest(
        `Invalid messages field: messages[${i}] must be an object with a "role"`,
        "messages",
      );
    }
  });
  const system = body.system;
  if (
    system !== undefined && system !== null && typeof system !== "string" &&
    !Array.isArray(system)
  ) {
    throw invalidRequest(
      'Invalid system field: "system" must be a string or an array of text blocks',
      "system",
    );
  }
  if (body.tools !== undefined && body.tools !== null && !Array.isArray(body.tools)) {
    throw invalidRequest('Invalid tools field: "tools" must be an array', "tools");
  }
  return body;
}

function estimated(body: Record<string, unknown>, why: string): Response {
  return new Response(JSON.stringify({ input_tokens: estimateInputTokens(body) }), {
    headers: {
      "content-type": "application/json",
      [TOKEN_COUNT_SOURCE_HEADER]: "estimate",
      [TOKEN_COUNT_FALLBACK_HEADER]: why,
    },
  });
}

/**
 * One count request to `account`: the upstream's JSON answer when it is a
 * count, else a short reason for the fallback header. Takes a connection of
 * the provider's `max_connections` only when one is free: a count never
 * waits behind completions.
 */
async function askAccount(
  deps: ProxyDeps,
  account: AccountRuntime,
  ref: ModelRef,
  body: Bytes,
  clientHeaders: HeaderReader,
  clientSignal: AbortSignal,
): Promise<Record<string, unknown> | string> {
  const p = account.provider;
  const slots = p.slots;
  if (slots !== undefined && !slots.tryTake()) return "provider_connections_busy";
  const controller = new AbortController();
  const abort = () => controller.abort();
  clientSignal.addEventListener("abort", abort);
  deps.shutdown.addEventListener("abort", abort);
  const timer = deps.deadlines.add(p.headersTimeoutMs, abort);
  try {
    const path = p.modelPaths.get(ref.modelId)?.anthropic ?? p.paths.anthropic;
    const target = {
      url: joinUrl(p.baseUrl, `${path.replace(/\/+$/, "")}/count_tokens`),
      protocol: "anthropic" as const,
      auth: p.auth,
      key: account.key,
      headers: p.headers,
      client: account.client,
    };
    const res = await fetch(target.url, {
      method: "POST",
      headers: upstreamHeaders(clientHeaders, target),
      body,
      signal: controller.signal,
      client: target.client,
    });
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      return `upstream_status_${res.status}`;
    }
    const read = await readWithin(res, MAX_COUNT_BYTES);
    const answer = read === undefined ? undefined : parseJson(read);
    const n = (answer as { input_tokens?: unknown } | undefined)?.input_tokens;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) return "upstream_bad_answer";
    return answer as Record<string, unknown>;
  } catch {
    return controller.signal.aborted ? "upstream_timeout_or_cancelled" : "upstream_unreachable";
  } finally {
    deps.deadlines.clear(timer);
    clientSignal.removeEventListener("abort", abort);
    deps.shutdown.removeEventListener("abort", abort);
    slots?.release();
  }
}
