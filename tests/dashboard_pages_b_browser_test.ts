/**
 * The Timeseries, Events, Traces, Runtime and Bandwidth pages in headless
 * Chromium (playwright-core, Debian's chromium), signed in with the login
 * cookie: each loads with no console error and no failed request at 1280 px
 * and 375 px without sideways scrolling (screenshots in
 * test-output/screenshots/), a markup account name stays text, and changing a
 * Timeseries control refetches the grouped series through the cookie without
 * leaving the page.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { launchBrowser } from "./_helpers/browser.ts";
import type { Page } from "./_helpers/browser.ts";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, postChat, startEggPool } from "./_helpers/eggpool.ts";
import type { TestEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const IMG_NAME = "<img src=x onerror=alert(1)>";
const PAGES = ["/timeseries", "/events", "/traces", "/runtime", "/bandwidth"];

function toml(mockUrl: string): string {
  return [
    "[providers.p]",
    'id = "p"',
    `base_url = "${mockUrl}"`,
    "[[providers.p.accounts]]",
    `name = '${IMG_NAME}'`,
    'api_key = "k-1"',
    "[[providers.p.accounts]]",
    `name = 'plain'`,
    'api_key = "k-2"',
  ].join("\n") + "\n";
}

async function traffic(pool: TestEggPool, model: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await postChat(pool, { model, messages: [{ role: "user", content: `hi ${i}` }] });
    assert.equal(res.status, 200);
    await res.text();
  }
}

async function signIn(page: Page, origin: string): Promise<void> {
  await page.navigate(`${origin}/login`);
  await page.waitForLoad(() =>
    page.evaluate(
      `document.querySelector("#key").value = ${JSON.stringify(LOCAL_KEY)};
       document.querySelector("form").requestSubmit();`,
    )
  );
}

Deno.test("pages B load clean at 1280 and 375 px; Timeseries refetches without a reload", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small", "mock-large"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: toml(mock.url) });
  await traffic(pool, "mock-small", 4);
  await traffic(pool, "mock-large", 2);
  const db = new DatabaseSync(pool.dbPath);
  try {
    const id = db.prepare("SELECT id FROM accounts WHERE name = ?").get(IMG_NAME)!.id;
    db.prepare(`INSERT INTO account_events (account_id, event_type, details_json, occurred_at)
      VALUES (?, 'rate_limited', ?, ?)`).run(
      Number(id),
      JSON.stringify({ status_code: 429, note: IMG_NAME }),
      Date.now() - 60_000,
    );
  } finally {
    db.close();
  }
  await using browser = await launchBrowser();
  const page = await browser.newPage();
  await signIn(page, pool.origin);

  for (const width of [1280, 375]) {
    await page.setViewport(width, 900, width < 500);
    for (const path of PAGES) {
      await page.navigate(`${pool.origin}${path}?period=24h`);
      assert.equal(new URL(page.pw.url()).pathname, path, "not sent to the login page");
      const overflow = await page.evaluate<number>(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth",
      );
      assert.equal(overflow, 0, `${path} scrolls sideways at ${width} px`);
      assert.equal(await page.evaluate<number>("document.images.length"), 1, "only the brand");
      assert.equal(await page.evaluate<number>("document.querySelectorAll('[onerror]').length"), 0);
      if (path !== "/runtime" && path !== "/bandwidth") {
        const shown = await page.evaluate<boolean>(
          `document.body.innerText.includes(${JSON.stringify(IMG_NAME)})`,
        );
        assert.ok(shown, `${path} shows the account name as text`);
      }
      await page.screenshot(`${path.slice(1)}-${width}`);
    }
  }

  // Timeseries: the chart is a Chart.js canvas with drawn pixels.
  await page.setViewport(1280, 900);
  await page.navigate(`${pool.origin}/timeseries?period=24h&group_by=account&metric=requests`);
  const drawn = await page.evaluate<number>(`(() => {
    const c = document.querySelector("figure[data-chart=grouped] canvas");
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) n++;
    return n;
  })()`);
  assert.ok(drawn > 1000, `the stacked chart drew ${drawn} pixels`);
  const series = () =>
    page.evaluate<string[]>(
      `[...document.querySelectorAll("#timeseries-detail tbody td[data-col=Series]")]
        .map((td) => td.textContent)`,
    );
  const before = await series();
  assert.ok(before.includes(IMG_NAME), `series by account: ${before}`);
  // A marker on the window survives only if the page does not reload.
  await page.evaluate("window.__stillHere = true");
  await page.evaluate(
    `const s = document.querySelector("#timeseries-controls select[name=group_by]");
     s.value = "model";
     s.dispatchEvent(new Event("change", { bubbles: true }));`,
  );
  await page.pw.waitForFunction(() =>
    [...document.querySelectorAll("#timeseries-detail tbody td[data-col=Series]")]
      .some((td) => td.textContent === "mock-large")
  );
  assert.equal(await page.evaluate<boolean>("window.__stillHere === true"), true, "no reload");
  const after = await series();
  assert.deepEqual([...new Set(after)].sort(), ["mock-large", "mock-small"]);
  const total = await page.evaluate<number>(
    `[...document.querySelectorAll("#timeseries-aggregate tbody td[data-col=Requests]")]
      .reduce((s, td) => s + Number(td.textContent), 0)`,
  );
  assert.equal(total, 6);
  assert.equal(new URL(page.pw.url()).searchParams.get("group_by"), "model");
  // The theme picker keeps the new choice too.
  assert.equal(
    await page.evaluate<string>(`document.querySelector(".theme-form input[name=group_by]").value`),
    "model",
  );
  await page.screenshot("timeseries-by-model-1280");

  // A filter the server refuses shows its message in place.
  await page.evaluate(
    `const m = document.querySelector("#timeseries-controls input[name=limit]");
     m.value = "30";
     m.dispatchEvent(new Event("change", { bubbles: true }));`,
  );
  await page.pw.waitForFunction(
    () => document.querySelector("#timeseries-status")?.classList.contains("ts-error"),
    undefined,
    {
      timeout: 5000,
    },
  );
  const message = await page.evaluate<string>(
    `document.querySelector("#timeseries-status").textContent`,
  );
  assert.match(message, /'limit'/);
  assert.equal(await page.evaluate<boolean>("window.__stillHere === true"), true);
  // That 400 is the one failed request, and it was expected.
  assert.deepEqual(
    page.failedRequests.map((r) => r.replace(/\?.*$/, "")),
    [`400 ${pool.origin}/api/timeseries/grouped`],
  );
  assert.deepEqual(
    page.errors.filter((e) => !e.includes("400 (Bad Request)")),
    [],
  );
  assert.deepEqual(page.dialogs, []);
});
