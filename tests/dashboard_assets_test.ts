/**
 * The dashboard's served files and the small fixes of issue #14 over HTTP
 * against a real EggPool: Chart.js is the pinned npm package's UMD build byte
 * for byte, `/favicon.ico` exists, and a route missing under `/v1/` is a
 * missing route, not a missing model.
 */
import assert from "node:assert/strict";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { poolToml } from "./dashboard_fixtures.ts";
import { CHART_JS_UMD } from "../scripts/gen_assets.ts";

/** The UMD build inside the Chart.js package deno.json pins, read from Deno's npm cache. */
const PACKAGE_UMD = CHART_JS_UMD;

Deno.test("/static/chart.umd.min.js is the pinned Chart.js package's UMD build, byte for byte", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  const res = await fetch(`${pool.origin}/static/chart.umd.min.js`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(res.headers.get("cache-control"), "public, max-age=86400");
  const served = new Uint8Array(await res.arrayBuffer());
  const expected = await Deno.readFile(PACKAGE_UMD);
  const pinned = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)))
    .imports["chart.js"];
  assert.match(PACKAGE_UMD.pathname, new RegExp(`/chart\\.js/${pinned.split("@").at(-1)}/dist/`));
  assert.ok(expected.length > 100_000, "the UMD build, not a stub");
  assert.equal(served.length, expected.length);
  assert.ok(served.every((b, i) => b === expected[i]), "served bytes differ from the package");
  assert.match(new TextDecoder().decode(served.subarray(0, 200)), /Chart\.js v4\./);
});

Deno.test("/favicon.ico answers with an icon, and a missing /v1/ route is not model_not_found", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  const icon = await fetch(`${pool.origin}/favicon.ico`);
  assert.equal(icon.status, 200);
  assert.equal(icon.headers.get("content-type"), "image/x-icon");
  const bytes = new Uint8Array(await icon.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 4)], [0, 0, 1, 0], "an ICO header");
  const bearer = { authorization: `Bearer ${LOCAL_KEY}` };
  const openai = await fetch(`${pool.origin}/v1/embeddings`, { method: "POST", headers: bearer });
  assert.equal(openai.status, 404);
  assert.deepEqual(await openai.json(), {
    error: {
      message: "No route for POST /v1/embeddings",
      type: "invalid_request_error",
      param: null,
      code: "route_not_found",
    },
  });
  const anthropic = await fetch(`${pool.origin}/v1/messages/batches`, { headers: bearer });
  assert.equal(anthropic.status, 404);
  assert.deepEqual(await anthropic.json(), {
    type: "error",
    error: { type: "not_found_error", message: "No route for GET /v1/messages/batches" },
  });
  // An unknown model still says so.
  const model = await fetch(`${pool.origin}/v1/chat/completions`, {
    method: "POST",
    headers: { ...bearer, "content-type": "application/json" },
    body: JSON.stringify({ model: "no-such-model", messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(model.status, 404);
  assert.equal((await model.json()).error.code, "model_not_found");
});
