/**
 * `GET /v1/models` and `GET /v1/models/{model_id}` in two shapes. A request
 * with an `anthropic-version` header (the Anthropic SDK and Claude Code always
 * send one; OpenAI clients never do) gets Anthropic's shape: `type: "model"`
 * items with `display_name` and `created_at`, paged by `limit`, `after_id`
 * and `before_id`, with `has_more`, `first_id` and `last_id`, and errors in
 * Anthropic's envelope. Every other request gets the OpenAI list unchanged.
 */
import type { Context, Hono } from "hono";
import { ProxyError } from "../core/errors.ts";
import type { Protocol } from "../core/protocol.ts";
import type { ListedLimits, ModelListItem } from "../catalog/listing.ts";
import { errorResponse, invalidRequest } from "../proxy/envelope.ts";
import type { HttpEnv } from "./server.ts";

/** Anthropic's page size when `limit` is absent, and its largest. */
export const ANTHROPIC_DEFAULT_LIMIT = 20;
export const ANTHROPIC_MAX_LIMIT = 1_000;

/** One model in Anthropic's shape. */
export interface AnthropicModel {
  type: "model";
  id: string;
  display_name: string;
  /** RFC 3339; the epoch when the first sighting is unknown. */
  created_at: string;
  /** Known limits only (the smallest across providers for a collapsed id). */
  max_input_tokens?: number;
  max_tokens?: number;
}

/** One page of Anthropic's list. */
export interface AnthropicModelPage {
  data: AnthropicModel[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

/** Whether the request asks for Anthropic's shapes. */
export function wantsAnthropic(headers: Headers): boolean {
  return headers.has("anthropic-version");
}

/** The envelope protocol of an answer on `path` (undefined: not an API path). */
export function answerProtocol(path: string, headers: Headers): Protocol | undefined {
  if (path.startsWith("/v1/messages")) return "anthropic";
  if (path === "/v1/models" || path.startsWith("/v1/models/")) {
    return wantsAnthropic(headers) ? "anthropic" : "openai";
  }
  if (path.startsWith("/v1/")) return "openai";
  return undefined;
}

/** Mounts both routes; `list` is the OpenAI-shaped list, sorted by id (`listModels`). */
export function mountModelRoutes(
  app: Hono<HttpEnv>,
  list: () => unknown,
): void {
  app.get("/v1/models", (c) => {
    const openai = list() as { data: ModelListItem[] };
    if (!wantsAnthropic(c.req.raw.headers)) return c.json(openai);
    const page = anthropicPage(openai.data, new URL(c.req.url).searchParams);
    if (page instanceof ProxyError) return errorResponse("anthropic", page);
    return c.json(page);
  });
  app.get("/v1/models/*", (c) => one(c, (list() as { data: ModelListItem[] }).data));
}

function one(c: Context<HttpEnv>, items: readonly ModelListItem[]): Response {
  const protocol: Protocol = wantsAnthropic(c.req.raw.headers) ? "anthropic" : "openai";
  const raw = c.req.path.slice("/v1/models/".length);
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    id = raw;
  }
  const item = findModel(items, id);
  if (item === undefined) {
    return errorResponse(
      protocol,
      new ProxyError("not_found", `Model '${id.slice(0, 200)}' not found`, {
        status: 404,
        param: "model_id",
      }),
    );
  }
  return c.json(protocol === "anthropic" ? toAnthropicModel(item) : item);
}

/**
 * The listed item with this id; for a bare id that is listed only with
 * provider suffixes (`model/provider`), which any endpoint accepts, the first
 * such item under the asked id.
 */
export function findModel(
  items: readonly ModelListItem[],
  id: string,
): ModelListItem | undefined {
  const exact = items.find((m) => m.id === id);
  if (exact !== undefined) return exact;
  const same = items.filter((m) => m.eggpool?.base_model_id === id);
  if (same.length === 0) return undefined;
  const limits: ListedLimits = {};
  for (const m of same) {
    for (const key of ["context", "input", "output"] as const) {
      const v = m.eggpool?.limits?.[key];
      if (v !== undefined) limits[key] = Math.min(limits[key] ?? v, v);
    }
  }
  return {
    ...same[0],
    id,
    owned_by: same.map((m) => m.owned_by).join(","),
    eggpool: {
      providers: same.map((m) => m.eggpool?.provider_id ?? m.owned_by),
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
    },
  };
}

/** An OpenAI-shaped item in Anthropic's shape. */
export function toAnthropicModel(item: ModelListItem): AnthropicModel {
  const out: AnthropicModel = {
    type: "model",
    id: item.id,
    display_name: item.name ?? item.id,
    created_at: new Date(Math.max(0, item.created) * 1000).toISOString().replace(
      /\.\d{3}Z$/,
      "Z",
    ),
  };
  const limits = item.eggpool?.limits;
  const input = limits?.input ?? limits?.context;
  if (input !== undefined) out.max_input_tokens = input;
  if (limits?.output !== undefined) out.max_tokens = limits.output;
  return out;
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * One page of the list, ordered by id. The cursors are compared as ids, so a
 * cursor model that left the list meanwhile still pages from where it was.
 * A bad parameter is returned as the error to answer.
 */
export function anthropicPage(
  items: readonly ModelListItem[],
  params: URLSearchParams,
): AnthropicModelPage | ProxyError {
  const limitText = params.get("limit");
  let limit = ANTHROPIC_DEFAULT_LIMIT;
  if (limitText !== null) {
    limit = /^\d+$/.test(limitText.trim()) ? Number(limitText.trim()) : NaN;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > ANTHROPIC_MAX_LIMIT) {
      return invalidRequest(
        `Invalid limit: must be a whole number from 1 to ${ANTHROPIC_MAX_LIMIT}, got '${
          limitText.slice(0, 40)
        }'`,
        "limit",
      );
    }
  }
  const after = params.get("after_id");
  const before = params.get("before_id");
  if (after !== null && before !== null) {
    return invalidRequest(
      "Invalid pagination: send after_id or before_id, not both",
      "before_id",
    );
  }
  const sorted = [...items].sort(byId);
  let page: ModelListItem[];
  let hasMore: boolean;
  if (before !== null) {
    const earlier = sorted.filter((m) => m.id < before);
    page = earlier.slice(Math.max(0, earlier.length - limit));
    hasMore = earlier.length > page.length;
  } else {
    const later = after === null ? sorted : sorted.filter((m) => m.id > after);
    page = later.slice(0, limit);
    hasMore = later.length > page.length;
  }
  const data = page.map(toAnthropicModel);
  return {
    data,
    has_more: hasMore,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
  };
}
