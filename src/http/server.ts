import { Hono } from "hono";
import type { Context } from "hono";
import type { Protocol } from "../core/protocol.ts";
import { HeaderSnapshot } from "../core/headers.ts";
import type { HeaderReader } from "../core/headers.ts";
import { ProxyError } from "../core/errors.ts";
import { errorResponse, unauthorized } from "../proxy/envelope.ts";
import type { KeyChecker } from "./auth.ts";

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
  const protocol = protocolOfPath(c.req.path);
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
  app.get("/v1/models", (c) => c.json(deps.proxy.listModels() as Record<string, unknown>));
  app.post(
    "/v1/chat/completions",
    (c) => deps.proxy.handle(c.req.raw, "openai", c.env?.remoteAddr, c.req.raw.headers),
  );
  app.post(
    "/v1/messages",
    (c) => deps.proxy.handle(c.req.raw, "anthropic", c.env?.remoteAddr, c.req.raw.headers),
  );
  deps.mount?.(app);
  app.notFound((c) => {
    const protocol = protocolOfPath(c.req.path);
    const err = new ProxyError("not_found", `No route for ${c.req.method} ${c.req.path}`, {
      status: 404,
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
  return (req, remoteAddr) => {
    // The two data-plane endpoints skip the router: they are the hot path, and
    // their only middleware is the key check.
    if (req.method === "POST") {
      const protocol = DATA_PLANE[pathOf(req.url)];
      if (protocol !== undefined) {
        // Read once: the key check, intake, affinity and forwarding all look at them.
        const headers = new HeaderSnapshot(req.headers);
        if (!deps.keys.isAuthorized(headers)) {
          return Promise.resolve(errorResponse(protocol, unauthorized()));
        }
        return deps.proxy.handle(req, protocol, remoteAddr, headers);
      }
    }
    return Promise.resolve(app.fetch(req, { remoteAddr }));
  };
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
