import { Hono } from "hono";
import type { Context } from "hono";
import type { Protocol } from "../core/protocol.ts";
import { HeaderSnapshot } from "../core/headers.ts";
import type { HeaderReader } from "../core/headers.ts";
import { ProxyError } from "../core/errors.ts";
import { errorResponse, unauthorized } from "../proxy/envelope.ts";
import { CREDENTIAL_HEADERS } from "../proxy/upstream.ts";
import type { KeyChecker } from "./auth.ts";
import { AuthThrottle } from "./auth_throttle.ts";
import { createGuard } from "./guard.ts";
import type { SecuritySettings } from "./guard.ts";
import { answerProtocol, mountModelRoutes } from "./models_route.ts";

/** What the data plane offers the HTTP layer. */
export interface ProxyPort {
  /** `headers` are the request's headers, possibly already read into a snapshot. */
  handle(
    req: Request,
    protocol: Protocol,
    clientIp: string | undefined,
    headers: HeaderReader,
  ): Promise<Response>;
  listModels(): unknown;
  /** `POST /v1/messages/count_tokens`; absent: 404 like any unknown route. */
  countTokens?(req: Request, headers: HeaderReader): Promise<Response>;
  /** `POST /v1/responses`; absent: 404 like any unknown route. */
  responses?(req: Request, clientIp: string | undefined, headers: HeaderReader): Promise<Response>;
}

/** Readiness as `/v1/readyz` reports it; `reason` names the first failing check. */
export interface Readiness {
  ok: boolean;
  reason?: string;
}

/** Dependencies of {@linkcode createHttpHandler}. */
export interface HttpDeps {
  keys: KeyChecker;
  proxy: ProxyPort;
  readiness(): Readiness;
  /** Extra routes mounted after the data plane (stats API, dashboard). */
  mount?(app: Hono<HttpEnv>): void;
  /** `[security]`; without it only the key is checked (unit tests). */
  security?: HttpSecurity;
  /** `[server].host`: a keyless server answers to it besides the loopback names. */
  bindHost?: string;
  /** `[server].access_log`: one line per request through `log`. */
  accessLog?: boolean;
  log?: (message: string) => void;
  clock?: () => number;
}

/** The `[security]` keys the HTTP layer applies (spec 01 §1, 02 §12). */
export interface HttpSecurity extends SecuritySettings {
  /** Peers whose `X-Forwarded-For` / `X-Real-IP` names the client. */
  readonly trusted_proxies: readonly string[];
  /** Header names stripped from every response. */
  readonly redact_headers: readonly string[];
}

/** Hono bindings: the peer address Deno.serve gives each request. */
export interface HttpEnv {
  Bindings: { remoteAddr?: string };
}

function protocolOfPath(path: string): Protocol | undefined {
  if (path.startsWith("/v1/messages")) return "anthropic";
  if (path.startsWith("/v1/")) return "openai";
  return undefined;
}

function denied(c: Context<HttpEnv>): Response {
  const protocol = answerProtocol(c.req.path, c.req.raw.headers);
  if (protocol) return errorResponse(protocol, unauthorized());
  return c.json({ error: "Invalid or missing API key" }, 401);
}

/** Builds the request handler: health, the data plane and auth in front of it. */
export function createHttpHandler(
  deps: HttpDeps,
): (req: Request, remoteAddr?: string) => Promise<Response> {
  const app = new Hono<HttpEnv>();
  app.get("/v1/healthz", (c) => c.json({ status: "ok" }));
  app.get("/v1/readyz", (c) => {
    const r = deps.readiness();
    return r.ok ? c.json({ status: "ok" }) : c.json({ status: "degraded", reason: r.reason }, 503);
  });
  const gated = (c: Context<HttpEnv>, next: () => Promise<void>) => {
    if (!deps.keys.isAuthorized(c.req.raw.headers)) return Promise.resolve(denied(c));
    return next();
  };
  app.use("/v1/*", async (c, next) => {
    if (c.req.path === "/v1/healthz" || c.req.path === "/v1/readyz") return await next();
    return await gated(c, next);
  });
  mountModelRoutes(app, () => deps.proxy.listModels());
  app.post(
    "/v1/chat/completions",
    (c) => deps.proxy.handle(c.req.raw, "openai", c.env?.remoteAddr, c.req.raw.headers),
  );
  const countTokens = deps.proxy.countTokens;
  if (countTokens !== undefined) {
    app.post("/v1/messages/count_tokens", (c) => countTokens(c.req.raw, c.req.raw.headers));
  }
  const responses = deps.proxy.responses;
  if (responses !== undefined) {
    app.post(
      "/v1/responses",
      (c) => responses(c.req.raw, c.env?.remoteAddr, c.req.raw.headers),
    );
  }
  app.post(
    "/v1/messages",
    (c) => deps.proxy.handle(c.req.raw, "anthropic", c.env?.remoteAddr, c.req.raw.headers),
  );
  deps.mount?.(app);
  app.notFound((c) => {
    const protocol = protocolOfPath(c.req.path);
    // A missing route is not a missing model: its own code, so clients do not go looking for one.
    const err = new ProxyError("not_found", `No route for ${c.req.method} ${c.req.path}`, {
      status: 404,
      code: "route_not_found",
    });
    return protocol ? errorResponse(protocol, err) : c.json({ error: err.message }, 404);
  });
  app.onError((error, c) => {
    const protocol = protocolOfPath(c.req.path) ?? "openai";
    if (error instanceof ProxyError) return errorResponse(protocol, error);
    console.error(`Unhandled error on ${c.req.method} ${c.req.path}: ${error.message}`);
    return errorResponse(
      protocol,
      new ProxyError("internal", "Internal proxy error", { status: 500 }),
    );
  });
  const log = deps.log ?? ((m: string) => console.error(`[eggpool] ${m}`));
  const security = deps.security;
  const guard = security && createGuard({
    security,
    bindHost: deps.bindHost ?? "127.0.0.1",
    keyed: deps.keys.enabled,
  });
  const throttle = deps.keys.enabled
    ? new AuthThrottle({ clock: deps.clock ?? Date.now, log })
    : undefined;
  const trusted = security && security.trusted_proxies.length > 0
    ? new Set(security.trusted_proxies.map((p) => p.trim()))
    : undefined;
  // Names no response of ours carries (the default list is just these) need
  // no look at every answer: that would cost the hot path a promise per request.
  const redactNames = security === undefined ? [] : [
    ...new Set(security.redact_headers.map((h) => h.trim().toLowerCase())),
  ].filter((name) => !CREDENTIAL_HEADERS.includes(name));
  const redact = redactNames.length > 0 ? redactNames : undefined;
  const accessLog = deps.accessLog === true;
  // Whether answers need a look before they leave; false keeps the hot path to one promise.
  const touchesAnswers = redact !== undefined || accessLog || guard !== undefined;

  const finish = (
    res: Response,
    req: Request,
    headers: HeaderReader,
    ip: string | undefined,
    started: number,
  ): Response => {
    let out = res;
    const cors = guard?.corsHeaders(headers);
    if (redact !== undefined || cors !== undefined) {
      out = withHeaders(res, (h) => {
        if (redact !== undefined) { for (const name of redact) if (h.has(name)) h.delete(name); }
        if (cors !== undefined) { for (const name in cors) h.set(name, cors[name]); }
      });
    }
    if (accessLog) {
      const ms = (performance.now() - started).toFixed(1);
      log(`access ${ip ?? "-"} "${req.method} ${pathOf(req.url)}" ${out.status} ${ms} ms`);
    }
    return out;
  };

  /** A 429 for an address whose failed key checks ran out, in the path's envelope. */
  const throttled = (
    protocol: Protocol | undefined,
    waitS: number,
    accept?: string | null,
  ): Response => {
    const message = `Too many failed API key checks from this address; retry in ${waitS} s ` +
      `with the right key`;
    if (protocol !== undefined) {
      return errorResponse(
        protocol,
        new ProxyError("rate_limited", message, { status: 429, retryAfterMs: waitS * 1000 }),
      );
    }
    // A browser (the login form) gets a sentence, not JSON.
    const browser = accept?.includes("text/html") === true;
    return new Response(browser ? `${message}.\n` : JSON.stringify({ error: message }), {
      status: 429,
      headers: {
        "content-type": browser ? "text/plain; charset=utf-8" : "application/json",
        "retry-after": String(waitS),
      },
    });
  };

  const routed = async (req: Request, remoteAddr: string | undefined): Promise<Response> => {
    const started = accessLog ? performance.now() : 0;
    const headers = req.headers;
    const ip = trusted === undefined ? remoteAddr : clientIp(remoteAddr, headers, trusted);
    const path = pathOf(req.url);
    const protocol = protocolOfPath(path);
    if (guard !== undefined) {
      const early = guard.preflight(req.method, headers) ??
        guard.refuse(req.method, headers, protocol, protocol !== undefined);
      if (early !== undefined) return finish(early, req, headers, ip, started);
    }
    if (throttle !== undefined && !UNTHROTTLED.has(path) && !path.startsWith("/static/")) {
      const wait = throttle.retryAfterS(ip);
      if (wait > 0) {
        return finish(throttled(protocol, wait, headers.get("accept")), req, headers, ip, started);
      }
    }
    const res = await app.fetch(req, { remoteAddr: ip });
    if (res.status === 401) throttle?.fail(ip);
    return touchesAnswers ? finish(res, req, headers, ip, started) : res;
  };

  return (req, remoteAddr) => {
    // The two data-plane endpoints skip the router: they are the hot path, and
    // their only middleware is the key check (plus the guard in keyless mode).
    if (req.method === "POST") {
      const protocol = DATA_PLANE[pathOf(req.url)];
      if (protocol !== undefined) {
        const started = accessLog ? performance.now() : 0;
        // Read once: the key check, intake, affinity and forwarding all look at them.
        const headers = new HeaderSnapshot(req.headers);
        const ip = trusted === undefined ? remoteAddr : clientIp(remoteAddr, headers, trusted);
        if (guard !== undefined) {
          const refused = guard.refuse("POST", headers, protocol, true);
          if (refused !== undefined) {
            return Promise.resolve(finish(refused, req, headers, ip, started));
          }
        }
        if (throttle !== undefined) {
          const wait = throttle.retryAfterS(ip);
          if (wait > 0) {
            return Promise.resolve(finish(throttled(protocol, wait), req, headers, ip, started));
          }
        }
        if (!deps.keys.isAuthorized(headers)) {
          throttle?.fail(ip);
          const denied = errorResponse(protocol, unauthorized());
          return Promise.resolve(
            touchesAnswers ? finish(denied, req, headers, ip, started) : denied,
          );
        }
        const answer = deps.proxy.handle(req, protocol, ip, headers);
        return touchesAnswers
          ? answer.then((res) => finish(res, req, headers, ip, started))
          : answer;
      }
    }
    return routed(req, remoteAddr);
  };
}

/** Paths a throttled address may still reach: they need no key. */
const UNTHROTTLED = new Set(["/v1/healthz", "/v1/readyz"]);

/** Longest forwarded client address believed; longer values are not addresses. */
const MAX_FORWARDED_IP = 64;
/** What an IPv4 or IPv6 address is made of; anything else in the header is not believed. */
const IP_CHARS = /^[0-9A-Fa-f.:]+$/;

/**
 * The client's address: the peer's, unless the peer is a trusted proxy, in
 * which case the first `X-Forwarded-For` value, else `X-Real-IP` (spec 02 §12).
 */
export function clientIp(
  remoteAddr: string | undefined,
  headers: HeaderReader,
  trusted: ReadonlySet<string>,
): string | undefined {
  if (remoteAddr === undefined || !trusted.has(remoteAddr)) return remoteAddr;
  const forwarded = headers.get("x-forwarded-for");
  const first = forwarded?.split(",")[0].trim() || headers.get("x-real-ip")?.trim();
  if (!first || first.length > MAX_FORWARDED_IP || !IP_CHARS.test(first)) {
    return remoteAddr;
  }
  return first;
}

/** Applies `edit` to the response's headers, copying the response first when they are immutable. */
function withHeaders(res: Response, edit: (headers: Headers) => void): Response {
  try {
    edit(res.headers);
    return res;
  } catch {
    const copy = new Response(res.body, res);
    edit(copy.headers);
    return copy;
  }
}

const DATA_PLANE: Readonly<Record<string, Protocol>> = {
  "/v1/chat/completions": "openai",
  "/v1/messages": "anthropic",
};

/** The path of an absolute request URL, without parsing the rest of it. */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  const h = url.indexOf("#", start);
  const end = q < 0 ? (h < 0 ? url.length : h) : h < 0 ? q : Math.min(q, h);
  return url.slice(start, end);
}
