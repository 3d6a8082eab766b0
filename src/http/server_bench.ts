/**
 * What the `[security]` handling adds to a data-plane request with a key
 * configured (the common case): the same handler with and without the
 * default `[security]` table, a proxy that answers at once. Run with
 * `deno bench src/http/server_bench.ts`.
 */
import { createKeyChecker } from "./auth.ts";
import { createHttpHandler } from "./server.ts";
import type { HttpDeps } from "./server.ts";

const KEY = "ep_bench_local_key_0123456789";
const BODY = JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] });

function handler(security: HttpDeps["security"]) {
  return createHttpHandler({
    keys: createKeyChecker(KEY),
    security,
    proxy: {
      handle: () =>
        Promise.resolve(
          new Response("{}", { headers: { "content-type": "application/json", "x-up": "1" } }),
        ),
      listModels: () => ({}),
    },
    readiness: () => ({ ok: true }),
    log: () => {},
  });
}

const plain = handler(undefined);
const secured = handler({
  allowed_hosts: [],
  cors_origins: [],
  trusted_proxies: [],
  redact_headers: ["authorization", "x-api-key"],
});
const request = () =>
  new Request("http://127.0.0.1:11300/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: BODY,
  });

Deno.bench("data plane, no [security]", { group: "hot", baseline: true }, async () => {
  await plain(request(), "127.0.0.1");
});
Deno.bench("data plane, default [security]", { group: "hot" }, async () => {
  await secured(request(), "127.0.0.1");
});
