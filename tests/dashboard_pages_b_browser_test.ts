/**
 * The Timeseries, Events, Traces, Runtime and Bandwidth pages in headless
 * Chromium (playwright-core, Debian's chromium), signed in with the login
 * cookie: each loads with no console error and no failed request at 1280 px
 * and 375 px without sideways scrolling (screenshots in
 * test-output/screenshots/), a markup account name stays text, and changing a
 * Timeseries control refetches the grouped series through the cookie without
 * leaving the page. As the first browser test does for the other pages: in
 * two themes every text of the Overview, Accounts, these five pages and a
 * model's detail page reaches WCAG AA as the browser computes it, and a theme
 * switch redraws the Timeseries chart in the new theme's colours.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { launchBrowser } from "./_helpers/browser.ts";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import {
  assertContrast,
  canvasPixels,
  dashboardToml,
  IMG_NAME,
  signIn,
  traffic,
} from "./_helpers/dashboard_browser.ts";
import type { CanvasPixels } from "./_helpers/dashboard_browser.ts";

const PAGES = ["/timeseries", "/events", "/traces", "/runtime", "/bandwidth"];

Deno.test("pages B load clean at 1280 and 375 px; Timeseries refetches without a reload", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small", "mock-large"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: dashboardToml(mock.url, "", ["plain"]),
  });
  await traffic(pool, 4, "mock-small");
  await traffic(pool, 2, "mock-large");
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
      if (path === "/runtime") {
        // The outbound table's priority 2 and 3 columns give way on a phone.
        const hidden = await page.evaluate<string[]>(
          `[...new Set([...document.querySelectorAll("#runtime-outbound .p2, #runtime-outbound .p3")]
             .map((e) => getComputedStyle(e).display))]`,
        );
        assert.deepEqual(hidden, [width < 500 ? "none" : "table-cell"]);
      }
      await page.screenshot(`${path.slice(1)}-${width}`);
    }
  }

  // With JavaScript off the new figures are plain text: the Runtime page's outbound clients
  // and config facts, the Accounts page's windows, reservations and bandwidth.
  const noJs = await browser.pw.newContext({
    javaScriptEnabled: false,
    extraHTTPHeaders: { authorization: `Bearer ${LOCAL_KEY}` },
  });
  try {
    const tab = await noJs.newPage();
    await tab.goto(`${pool.origin}/runtime`);
    const text = (selector: string) => tab.locator(selector).innerText();
    assert.equal(await text(`#runtime-outbound td[data-col="Calls since start"]`), "6");
    assert.equal(await text(`#runtime-outbound td[data-col="Open calls"]`), "0 / 32");
    assert.equal(
      await text(`#runtime-config dd[data-fact="File on disk"]`),
      "same as the running config",
    );
    assert.equal(await text(`[data-card="processes"] .card-value`), "1");
    await tab.goto(`${pool.origin}/accounts?period=24h`);
    const rows = await tab.locator("table.accounts-table tbody tr").count();
    assert.equal(rows, 2);
    const [requests] = pool.query(
      "SELECT count(*) AS n FROM requests r JOIN accounts a ON a.id = r.account_id WHERE a.name = ?",
      "plain",
    );
    const cell = (col: string) => text(`tr[data-account="plain"] td[data-col="${col}"]`);
    assert.equal(await cell("Reservations"), "0");
    assert.equal(await cell("Reserved"), "0");
    assert.match(await cell("BW emitted"), /^\d+(\.\d)? (B|KiB)$/);
    assert.match(
      await cell("5h util."),
      new RegExp(
        `^\\d+\\.\\d%\\s+(${requests.n} / 2\\.5k requests|\\$[\\d.]+ / \\$12\\.00 spend)$`,
      ),
    );
  } finally {
    await noJs.close();
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

/** Every page the overview test and this one cover, plus a model's detail page. */
const THEMED_PAGES = [
  "/",
  "/accounts",
  "/bandwidth",
  "/traces",
  "/events",
  "/timeseries",
  "/runtime",
  "/models/mock-small",
];

Deno.test("pages B: computed text colours reach AA, and Timeseries redraws in the new theme", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  const extra = '[dashboard]\ntheme = "Cyber Red"\n';
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: dashboardToml(mock.url, extra, ["plain"]),
  });
  await traffic(pool, 4);
  await using browser = await launchBrowser();
  const page = await browser.newPage();
  await page.setViewport(1280, 900);
  await signIn(page, pool.origin);
  const colours: string[] = [];
  for (const theme of ["Cyber Red", "Catppuccin Latte"]) {
    for (const path of THEMED_PAGES) {
      await page.navigate(`${pool.origin}${path}?${new URLSearchParams({ period: "24h", theme })}`);
      assert.equal(new URL(page.pw.url()).pathname, path, "not sent to the login page");
      const probed = await assertContrast(page, `${theme} ${path}`);
      assert.ok(probed > 15, `${probed} text elements probed on ${path}`);
    }
    // Switch through the theme picker on Timeseries, as a user does: the page reloads in the
    // chosen theme and the first series is drawn in its --color-info.
    await page.navigate(`${pool.origin}/timeseries?period=24h&theme=Dracula&metric=requests`);
    await page.waitForLoad(() =>
      page.evaluate(
        `const s = document.querySelector("select[name=theme]");
         s.value = ${JSON.stringify(theme)};
         s.dispatchEvent(new Event("change"));`,
      )
    );
    assert.equal(new URL(page.pw.url()).searchParams.get("theme"), theme);
    assert.equal(new URL(page.pw.url()).searchParams.get("metric"), "requests");
    const px = await page.evaluate<CanvasPixels>(
      canvasPixels("figure[data-chart=grouped]", "--color-info"),
    );
    assert.ok(px.visible, "the canvas replaced the SVG bars");
    assert.ok(px.drawn > 1000, `canvas has drawn pixels (${px.drawn})`);
    assert.ok(px.match > 50, `first series in the theme's --color-info ${px.hex} (${px.match} px)`);
    colours.push(px.hex);
    await page.screenshot(`timeseries-chart-${theme}`);
  }
  assert.notEqual(colours[0], colours[1], "the switch changed the series colour");
  assert.deepEqual(page.dialogs, []);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.failedRequests, []);
});
