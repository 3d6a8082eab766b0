/**
 * Issue #12, security items, through a running EggPool on loopback with a
 * real SQLite file and a mock upstream: login redirects, logout, the failed
 * key throttle, keyless-mode protections and the `[security]` keys.
 */
import assert from "node:assert/strict";
import { ANY_KEY, startMockUpstream } from "../src/sim/mock_upstream.ts";
import type { MockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, mockProvidersToml, startEggPool } from "./_helpers/eggpool.ts";
import type { StartEggPoolOptions, TestEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const CHAT = { model: "mock-small/mockoai", messages: [{ role: "user", content: "hi" }] };

/** Runs `body` against a fresh mock and EggPool (keyed unless `options.keyless`). */
async function withPool(
  options: Omit<StartEggPoolOptions, "dir" | "toml"> & { toml?: string },
  body: (pool: TestEggPool, mock: MockUpstream) => Promise<void>,
): Promise<void> {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({
    ...options,
    dir: tmp.path,
    toml: mockProvidersToml(mock.url) + (options.toml ?? ""),
  });
  await body(pool, mock);
}

function completions(mock: MockUpstream) {
  return mock.requests.filter((r) => r.path.endsWith("/chat/completions"));
}

async function login(pool: TestEggPool, key: string, next: string, headers = {}) {
  return await fetch(`${pool.origin}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ key, next }),
  });
}

/**
 * One HTTP/1.1 exchange over a raw socket: `fetch` sets `Host` from the URL,
 * and these tests need to send another name, as a rebound DNS name would.
 */
async function raw(
  pool: TestEggPool,
  method: string,
  path: string,
  headers: Record<string, string>,
  body = "",
): Promise<{ status: number; headers: Headers; text: string }> {
  const { hostname, port } = new URL(pool.origin);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const lines = [`${method} ${path} HTTP/1.1`, "connection: close"];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  const bytes = new TextEncoder().encode(body);
  if (method !== "GET") lines.push(`content-length: ${bytes.length}`);
  await conn.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n"));
  if (bytes.length > 0) await conn.write(bytes);
  const reply = await new Response(conn.readable).text();
  const [head, ...rest] = reply.split("\r\n\r\n");
  const [statusLine, ...headerLines] = head.split("\r\n");
  const out = new Headers();
  for (const l of headerLines) {
    const i = l.indexOf(":");
    out.append(l.slice(0, i).trim(), l.slice(i + 1).trim());
  }
  return { status: Number(statusLine.split(" ")[1]), headers: out, text: rest.join("\r\n\r\n") };
}

Deno.test("login: the Location actually sent is always a path on this origin", async () => {
  await withPool({}, async (pool) => {
    const cases: [string, string][] = [
      ["/.//evil.example", "/"],
      ["/..//evil.example/x", "/"],
      ["//evil", "/"],
      ["/\\evil", "/"],
      ["https://evil", "/"],
      ["%2F%2Fevil", "/"],
      ["/ok/path?x=1", "/ok/path?x=1"],
    ];
    let cookie = "";
    for (const [next, expected] of cases) {
      const res = await login(pool, LOCAL_KEY, next);
      await res.body?.cancel();
      assert.equal(res.status, 303, next);
      assert.equal(res.headers.get("location"), expected, `POST /login next=${next}`);
      cookie = res.headers.get("set-cookie")!.split(";")[0];
    }
    // Already signed in: GET /login redirects straight to `next`.
    for (const [next, expected] of cases) {
      const res = await fetch(`${pool.origin}/login?next=${encodeURIComponent(next)}`, {
        redirect: "manual",
        headers: { cookie },
      });
      await res.body?.cancel();
      assert.equal(res.status, 303, next);
      assert.equal(res.headers.get("location"), expected, `GET /login next=${next}`);
    }
  });
});

Deno.test("logout: a cookie captured before logout is refused after it", async () => {
  await withPool({}, async (pool) => {
    const signIn = await login(pool, LOCAL_KEY, "/accounts");
    await signIn.body?.cancel();
    const cookie = signIn.headers.get("set-cookie")!.split(";")[0];
    const other = await login(pool, LOCAL_KEY, "/");
    await other.body?.cancel();
    const otherCookie = other.headers.get("set-cookie")!.split(";")[0];
    const get = (c: string) => fetch(`${pool.origin}/accounts`, { headers: { cookie: c } });

    const before = await get(cookie);
    await before.body?.cancel();
    assert.equal(before.status, 200);

    const out = await fetch(`${pool.origin}/logout`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie },
    });
    await out.body?.cancel();
    assert.equal(out.status, 303);
    assert.match(out.headers.get("set-cookie") ?? "", /Max-Age=0/);

    const after = await get(cookie);
    const body = await after.json();
    assert.equal(after.status, 401, "the old cookie no longer opens the dashboard");
    assert.match(body.error, /API key/);
    const still = await get(otherCookie);
    await still.body?.cancel();
    assert.equal(still.status, 200, "the other browser's session is untouched");
  });
});

Deno.test("failed key checks are throttled per client IP, logged without the key", async () => {
  await withPool({ toml: '[security]\ntrusted_proxies = ["127.0.0.1"]\n' }, async (pool, mock) => {
    const attacker = { "x-forwarded-for": "203.0.113.7" };
    const statuses: number[] = [];
    let lastBody: Record<string, unknown> = {};
    let retryAfter: string | null = null;
    for (let i = 0; i < 30; i++) {
      const res = await login(pool, `wrong_key_guess_${i}`, "/", attacker);
      statuses.push(res.status);
      retryAfter = res.headers.get("retry-after");
      if (res.status === 429) lastBody = await res.json();
      else await res.body?.cancel();
    }
    assert.equal(statuses[0], 401);
    assert.equal(statuses.at(-1), 429, `statuses: ${statuses.join(",")}`);
    assert.ok(Number(retryAfter) >= 1, `Retry-After: ${retryAfter}`);
    assert.match(String(lastBody.error), /Too many failed API key checks/);
    const browser = await login(pool, "wrong_key_guess_browser", "/", {
      ...attacker,
      accept: "text/html",
    });
    assert.equal(browser.status, 429);
    assert.match(browser.headers.get("content-type") ?? "", /^text\/plain/);
    assert.match(await browser.text(), /Too many failed API key checks.*retry in \d+ s/);

    // The right key from the throttled address is refused too (no oracle), in the endpoint's envelope.
    const blocked = await fetch(`${pool.origin}/v1/chat/completions`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${LOCAL_KEY}`,
        "content-type": "application/json",
        ...attacker,
      },
      body: JSON.stringify(CHAT),
    });
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get("retry-after")) >= 1);
    const envelope = await blocked.json();
    assert.equal(envelope.error.type, "rate_limit_exceeded");
    assert.equal(completions(mock).length, 0);

    // Another client with the right key still gets through, and is recorded under its own IP.
    const good = await fetch(`${pool.origin}/v1/chat/completions`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${LOCAL_KEY}`,
        "content-type": "application/json",
        "x-forwarded-for": "198.51.100.9, 127.0.0.1",
      },
      body: JSON.stringify(CHAT),
    });
    assert.equal(good.status, 200);
    await good.body?.cancel();
    const rows = pool.query("SELECT client_ip FROM requests");
    assert.deepEqual(rows.map((r) => r.client_ip), ["198.51.100.9"]);

    const lines = pool.logs.filter((l) => l.includes("Failed API key checks from 203.0.113.7"));
    assert.equal(lines.length, 1, `one line per minute per IP: ${pool.logs.join("\n")}`);
    assert.match(lines[0], /\d+ failed/);
    assert.ok(!pool.logs.some((l) => l.includes("wrong_key_guess")), "tried keys never logged");
  });
});

Deno.test("X-Forwarded-For is not believed from a peer outside trusted_proxies", async () => {
  await withPool({}, async (pool) => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      const res = await fetch(`${pool.origin}/v1/models`, {
        headers: { authorization: "Bearer ep_wrong_key_0000", "x-forwarded-for": `10.0.0.${i}` },
      });
      await res.body?.cancel();
      statuses.push(res.status);
    }
    assert.equal(statuses[0], 401);
    assert.equal(statuses.at(-1), 429, "all failures counted against the real peer");
    assert.ok(pool.logs.some((l) => l.includes("Failed API key checks from 127.0.0.1")));
  });
});

Deno.test("keyless loopback: browser-style attacks are refused before any upstream call", async () => {
  await withPool({ keyless: true }, async (pool, mock) => {
    const post = (headers: Record<string, string>, path = "/v1/chat/completions") =>
      fetch(`${pool.origin}${path}`, { method: "POST", headers, body: JSON.stringify(CHAT) });

    const plain = await post({ "content-type": "text/plain" });
    assert.equal(plain.status, 415);
    assert.match((await plain.json()).error.message, /Content-Type: application\/json/);
    const none = await post({}, "/v1/messages");
    assert.equal(none.status, 415);
    const anthropic = await none.json();
    assert.equal(anthropic.type, "error", "Anthropic envelope on /v1/messages");
    assert.match(anthropic.error.message, /Content-Type: application\/json/);

    const foreign = await post({
      "content-type": "application/json",
      origin: "https://evil.example",
    });
    assert.equal(foreign.status, 403);
    assert.match((await foreign.json()).error.message, /cors_origins/);
    const crossSite = await post({
      "content-type": "application/json",
      "sec-fetch-site": "cross-site",
    });
    assert.equal(crossSite.status, 403);
    await crossSite.body?.cancel();

    const rebound = await raw(pool, "POST", "/v1/chat/completions", {
      host: "evil.example",
      "content-type": "application/json",
    }, JSON.stringify(CHAT));
    assert.equal(rebound.status, 421);
    assert.match(rebound.text, /allowed_hosts/);
    // DNS rebinding would read stats: refused on the dashboard and its API as well.
    for (const path of ["/", "/api/timeseries", "/v1/models"]) {
      const res = await raw(pool, "GET", path, { host: "evil.example:11300" });
      assert.equal(res.status, 421, path);
    }
    assert.equal(completions(mock).length, 0, "no refused request reached the upstream");

    // What a real client sends still works: JSON with parameters, same-origin pages, localhost.
    const ok = await post({ "content-type": "Application/JSON; charset=utf-8" });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    const sameOrigin = await post({
      "content-type": "application/json",
      origin: pool.origin,
      host: new URL(pool.origin).host,
    });
    assert.equal(sameOrigin.status, 200);
    await sameOrigin.body?.cancel();
    const byName = await raw(pool, "GET", "/v1/models", {
      host: `localhost:${new URL(pool.origin).port}`,
    });
    assert.equal(byName.status, 200);
    assert.equal(completions(mock).length, 2);
    const rows = pool.query("SELECT status FROM requests");
    assert.equal(rows.length, 2, "refused requests never entered; served ones recorded once");
  });
});

Deno.test("keyless loopback: cors_origins lets a listed page call the API", async () => {
  await withPool(
    { keyless: true, toml: '[security]\ncors_origins = ["http://localhost:5173"]\n' },
    async (pool) => {
      const pre = await fetch(`${pool.origin}/v1/chat/completions`, {
        method: "OPTIONS",
        headers: {
          origin: "http://localhost:5173",
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      });
      await pre.body?.cancel();
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get("access-control-allow-origin"), "http://localhost:5173");
      assert.equal(pre.headers.get("access-control-allow-headers"), "content-type");
      const res = await fetch(`${pool.origin}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: "http://localhost:5173" },
        body: JSON.stringify(CHAT),
      });
      await res.body?.cancel();
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("access-control-allow-origin"), "http://localhost:5173");
      const other = await fetch(`${pool.origin}/v1/models`, {
        method: "OPTIONS",
        headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
      });
      await other.body?.cancel();
      assert.equal(other.status, 403);
      assert.equal(other.headers.get("access-control-allow-origin"), null);
    },
  );
});

Deno.test("with a key: any content type that parses as JSON, any Host unless allowed_hosts", async () => {
  await withPool({}, async (pool) => {
    const res = await raw(pool, "POST", "/v1/chat/completions", {
      authorization: `Bearer ${LOCAL_KEY}`,
      "content-type": "application/x-www-form-urlencoded",
      host: "eggpool.lan",
    }, JSON.stringify(CHAT));
    assert.equal(res.status, 200, "curl -d sends a form content type");
  });
  await withPool({ toml: '[security]\nallowed_hosts = ["eggpool.lan"]\n' }, async (pool) => {
    const models = (host: string) =>
      raw(pool, "GET", "/v1/models", { authorization: `Bearer ${LOCAL_KEY}`, host });
    assert.equal((await models("EggPool.lan:11300")).status, 200);
    const unlisted = await models("127.0.0.1");
    assert.equal(unlisted.status, 421);
    assert.match(unlisted.text, /Invalid host header/);
  });
});

Deno.test("redact_headers strips the listed names from proxied answers", async () => {
  await withPool(
    { toml: '[security]\nredact_headers = ["x-api-key", "X-Upstream-Secret"]\n' },
    async (pool, mock) => {
      mock.script.set(ANY_KEY, {
        headers: { "x-api-key": "sk-leak", "x-upstream-secret": "s3cret", "x-kept": "yes" },
      });
      const res = await fetch(`${pool.origin}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${LOCAL_KEY}`, "content-type": "application/json" },
        body: JSON.stringify(CHAT),
      });
      await res.body?.cancel();
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-kept"), "yes", "the mock did send extra headers");
      assert.equal(res.headers.get("x-api-key"), null);
      assert.equal(res.headers.get("x-upstream-secret"), null);
    },
  );
});

Deno.test("access_log writes one line per request without keys or query strings", async () => {
  await withPool({ server: "access_log = true" }, async (pool) => {
    const res = await fetch(`${pool.origin}/v1/chat/completions?secret=q`, {
      method: "POST",
      headers: { authorization: `Bearer ${LOCAL_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(CHAT),
    });
    await res.body?.cancel();
    const health = await fetch(`${pool.origin}/v1/healthz`);
    await health.body?.cancel();
    const lines = pool.logs.filter((l) => l.startsWith("access "));
    assert.equal(lines.length, 2, lines.join("\n"));
    assert.match(lines[0], /^access 127\.0\.0\.1 "POST \/v1\/chat\/completions" 200 \d+\.\d ms$/);
    assert.match(lines[1], /^access 127\.0\.0\.1 "GET \/v1\/healthz" 200 /);
    assert.ok(!lines.some((l) => l.includes(LOCAL_KEY) || l.includes("secret")));
  });
  await withPool({}, async (pool) => {
    const health = await fetch(`${pool.origin}/v1/healthz`);
    await health.body?.cancel();
    assert.equal(pool.logs.filter((l) => l.startsWith("access ")).length, 0, "off by default");
  });
});
