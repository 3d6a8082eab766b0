/**
 * `POST /v1/messages/count_tokens` (Claude Code calls it): asked of an
 * account that speaks Anthropic for the model when there is one, otherwise,
 * or when that account cannot answer, estimated here. Never an upstream
 * error: a count is advice, and a failed one must not stop the client. It is
 * not a completion, so it adds no request row to the stats.
 */
import type { HeaderReader } from "../core/headers.ts";
import { ProxyError } from "../core/errors.ts";
import { readBoundedBody } from "./body.ts";
import { errorResponse, invalidRequest } from "./envelope.ts";
import { parseJson, readWithin } from "./_respond.ts";
import { joinUrl, upstreamHeaders } from "./upstream.ts";
import type { ProxyDeps } from "./_attempt_types.ts";

/** Characters per token of the local estimate (the usual rule of thumb for English and code). */
const CHARS_PER_TOKEN = 4;
/** Largest count answer read from an upstream. */
const MAX_COUNT_BYTES = 65_536;
/** Response header saying where the count came from: `upstream` or `estimate`. */
export const TOKEN_COUNT_SOURCE_HEADER = "x-proxy-token-count-source";

/** Answers one count request. */
export async function countTokens(
  deps: ProxyDeps,
  req: Request,
  headers: HeaderReader,
): Promise<Response> {
  try {
    const bytes = await readBoundedBody(
      req,
      deps.maxBodyBytes,
      headers,
      deps.deadlines,
      deps.bodyTimeoutMs,
    );
    const body = parseJson(bytes);
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw invalidRequest("Invalid JSON: the request body must be a JSON object");
    }
    const obj = body as Record<string, unknown>;
    if (typeof obj.model !== "string" || obj.model.trim() === "") {
      throw invalidRequest('Missing model field: set "model" to one of GET /v1/models', "model");
    }
    const ref = deps.catalog.parseRef(obj.model);
    const upstream = await askUpstream(deps, { ...obj, model: ref.modelId }, ref, {
      headers,
      signal: req.signal,
    });
    if (upstream !== undefined) return counted(upstream, "upstream");
    return counted(estimate(obj), "estimate");
  } catch (error) {
    const err = error instanceof ProxyError
      ? error
      : new ProxyError("internal", "Internal proxy error", { status: 500, cause: error });
    return errorResponse("anthropic", err);
  }
}

function counted(inputTokens: number, source: "upstream" | "estimate"): Response {
  return new Response(JSON.stringify({ input_tokens: inputTokens }), {
    headers: { "content-type": "application/json", [TOKEN_COUNT_SOURCE_HEADER]: source },
  });
}

/** The local estimate: the characters of everything the model would read. */
export function estimate(body: Record<string, unknown>): number {
  let chars = 0;
  for (const key of ["system", "messages", "tools"]) {
    const v = body[key];
    if (v === undefined || v === null) continue;
    chars += typeof v === "string" ? v.length : JSON.stringify(v).length;
  }
  return Math.max(1, Math.ceil(chars / CHARS_PER_TOKEN));
}

/** The count from the best Anthropic account for the model, or undefined when none answers. */
async function askUpstream(
  deps: ProxyDeps,
  body: Record<string, unknown>,
  ref: { modelId: string; providerId?: string },
  client: { headers: HeaderReader; signal: AbortSignal },
): Promise<number | undefined> {
  const providers = new Set(
    deps.catalog.entries(ref).filter((e) => e.protocol === "anthropic").map((e) => e.providerId),
  );
  if (providers.size === 0) return undefined;
  const account = deps.pool.decide({ modelId: ref.modelId, providerIds: providers })
    .candidates[0]?.account;
  if (account === undefined) return undefined;
  const p = account.provider;
  const path = p.modelPaths.get(ref.modelId)?.anthropic ?? p.paths.anthropic;
  try {
    const res = await fetch(joinUrl(p.baseUrl, `${path}/count_tokens`), {
      method: "POST",
      headers: upstreamHeaders(client.headers, {
        url: "",
        protocol: "anthropic",
        auth: p.auth,
        key: account.key,
        headers: p.headers,
      }),
      body: JSON.stringify(body),
      signal: AbortSignal.any([client.signal, AbortSignal.timeout(p.headersTimeoutMs)]),
      client: account.client,
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      return undefined;
    }
    const n = (parseJson((await readWithin(res, MAX_COUNT_BYTES)) ?? new Uint8Array(0)) as {
      input_tokens?: unknown;
    } | undefined)?.input_tokens;
    return typeof n === "number" && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
