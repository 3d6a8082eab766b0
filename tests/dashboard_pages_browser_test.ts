/**
 * Every dashboard page in headless Chromium (playwright-core, Debian's
 * chromium): no console error and no failed request at 1280 px and 375 px,
 * screenshots for a person to look at (test-output/screenshots/), markup in
 * an account name stays text, theme colours reach WCAG AA as the browser
 * computes them, and the requests chart draws in the active theme's colours.
 */
import assert from "node:assert/strict";
import { launchBrowser } from "./_helpers/browser.ts";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import {
  assertContrast,
  canvasPixels,
  dashboardToml as toml,
  IMG_NAME,
  signIn,
  traffic,
} from "./_helpers/dashboard_browser.ts";
/** Every page the dashboard serves (the login page is checked signed out). */
const PAGES = [
  "/",
  "/accounts",
  "/reliability",
  "/routing",
  "/cache",
  "/models",
  "/latency",
  "/pings",
];
/** Pages that list accounts in an always-shown column. */
const NAME_PAGES = new Set(["/", "/accounts", "/routing", "/cache"]);

Deno.test("every page loads clean at 1280 and 375 px, and a markup account name stays text", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  await using pool = await startEggPool({ dir: tmp.path, toml: toml(mock.url) });
  await traffic(pool, 3);
  await using browser = await launchBrowser();
  const page = await browser.newPage();

  // Signed out, the login page itself.
  for (const width of [1280, 375]) {
    await page.setViewport(width, 900, width < 500);
    await page.navigate(`${pool.origin}/login?next=%2Faccounts`);
    assert.equal(await page.evaluate<string>("document.title"), "Sign in · EggPool");
    await page.screenshot(`login-${width}`);
  }
  await signIn(page, pool.origin);
  for (const width of [1280, 375]) {
    await page.setViewport(width, 900, width < 500);
    for (const path of PAGES) {
      await page.navigate(`${pool.origin}${path}?period=24h`);
      const overflow = await page.evaluate<number>(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth",
      );
      assert.equal(overflow, 0, `${path} scrolls sideways at ${width} px`);
      // The name is on the page as text, and nowhere as an element.
      const shown = await page.evaluate<boolean>(
        `document.body.innerText.includes(${JSON.stringify(IMG_NAME)})`,
      );
      if (NAME_PAGES.has(path)) assert.ok(shown, `${path} shows the account name as text`);
      assert.equal(await page.evaluate<number>("document.images.length"), 1, "only the brand");
      assert.equal(await page.evaluate<number>("document.querySelectorAll('[onerror]').length"), 0);
      await page.screenshot(`${path === "/" ? "overview" : path.slice(1)}-${width}`);
    }
  }
  const favicon = await page.evaluate<number>(
    `fetch("/favicon.ico").then((r) => r.ok ? r.arrayBuffer() : null).then((b) => b ? b.byteLength : 0)`,
  );
  assert.ok(favicon > 100);
  // The raw DevTools call the earlier helper offered still works (a PNG of the page).
  const shot = await page.send("Page.captureScreenshot", { format: "png" });
  assert.match(String(shot.data), /^iVBORw0KGgo/);
  assert.deepEqual(page.dialogs, []);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.failedRequests, []);
});

Deno.test("themes: computed text colours reach AA, and the chart redraws in the new theme's colours", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  const extra = '[dashboard]\npublic = true\ntheme = "Cyber Red"\n';
  await using pool = await startEggPool({ dir: tmp.path, toml: toml(mock.url, extra) });
  await traffic(pool, 4);
  await using browser = await launchBrowser();
  const page = await browser.newPage();
  await page.setViewport(1280, 900);

  const colours: string[] = [];
  for (const theme of ["Cyber Red", "Catppuccin Latte"]) {
    for (const path of PAGES) {
      await page.navigate(`${pool.origin}${path}?${new URLSearchParams({ theme })}`);
      const probed = await assertContrast(page, `${theme} ${path}`);
      assert.ok(probed > 20, `${probed} text elements probed on ${path}`);
    }
    // Back on the Overview through the theme picker, as a user switches.
    await page.navigate(`${pool.origin}/?theme=Dracula`);
    await page.waitForLoad(() =>
      page.evaluate(
        `const s = document.querySelector("select[name=theme]");
         s.value = ${JSON.stringify(theme)};
         s.dispatchEvent(new Event("change"));`,
      )
    );
    assert.equal(new URL(page.pw.url()).searchParams.get("theme"), theme);
    const px = await page.evaluate<{ hex: string; drawn: number; match: number; visible: boolean }>(
      canvasPixels("figure[data-chart=requests]", "--color-info"),
    );
    assert.ok(px.visible, "the canvas replaced the SVG bars");
    assert.ok(px.drawn > 1000, `canvas has drawn pixels (${px.drawn})`);
    assert.ok(px.match > 50, `bars in the theme's --color-info ${px.hex} (${px.match} px)`);
    assert.equal(
      await page.evaluate<string>(
        `getComputedStyle(document.querySelector(".chart-fallback")).display`,
      ),
      "none",
    );
    colours.push(px.hex);
    await page.screenshot(`overview-chart-${theme}`);
  }
  assert.notEqual(colours[0], colours[1], "the switch changed the bar colour");

  // A swap by auto-refresh re-creates the chart instead of stacking a second one.
  const charts = await page.evaluate<number>(
    "EggPoolDashboard.bootstrap(); EggPoolDashboard.charts.length",
  );
  assert.equal(charts, 1);
  assert.deepEqual(page.dialogs, []);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.failedRequests, []);
});

/** In-page: per category chart, whether its canvas replaced the SVG and how many pixels it drew. */
const BAR_CANVASES = `[...document.querySelectorAll("figure[data-chart=bars]")].map((f) => {
  const canvas = f.querySelector("canvas");
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let drawn = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) drawn++;
  const success = getComputedStyle(document.documentElement).getPropertyValue("--color-success")
    .trim();
  const want = [1, 3, 5].map((i) => parseInt(success.slice(i, i + 2), 16));
  let bars = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] === want[0] && data[i + 1] === want[1] && data[i + 2] === want[2]) bars++;
  }
  return {
    id: f.dataset.chartId,
    drawn,
    bars,
    visible: canvas.getClientRects().length > 0,
    fallback: getComputedStyle(f.querySelector(".chart-fallback")).display,
  };
})`;

Deno.test("Reliability and Routing draw their charts on canvases in the theme's colours", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  const extra = '[dashboard]\npublic = true\ntheme = "Nord"\n';
  await using pool = await startEggPool({ dir: tmp.path, toml: toml(mock.url, extra) });
  await traffic(pool, 3);
  await using browser = await launchBrowser();
  const page = await browser.newPage();
  await page.setViewport(1280, 900);
  for (
    const [path, id] of [["/reliability", "attempts-by-provider"], [
      "/routing",
      "exclusion-taxonomy",
    ]]
  ) {
    await page.navigate(`${pool.origin}${path}?period=24h`);
    const charts = await page.evaluate<
      { id: string; drawn: number; bars: number; visible: boolean; fallback: string }[]
    >(BAR_CANVASES);
    assert.equal(charts.length, 1, path);
    assert.equal(charts[0].id, id);
    assert.ok(charts[0].visible, `${path}: the canvas replaced the SVG`);
    assert.equal(charts[0].fallback, "none");
    assert.ok(charts[0].drawn > 500, `${path}: canvas has drawn pixels (${charts[0].drawn})`);
    if (path === "/reliability") {
      assert.ok(charts[0].bars > 50, `successful attempts in --color-success (${charts[0].bars})`);
    }
  }
  assert.deepEqual(page.dialogs, []);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.failedRequests, []);
});
