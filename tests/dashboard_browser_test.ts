/**
 * The dashboard in a real browser: headless Debian Chromium driven by
 * playwright-core (tests/_helpers/browser.ts) against a real EggPool.
 */
import assert from "node:assert/strict";
import { launchBrowser } from "./_helpers/browser.ts";
import type { Page } from "./_helpers/browser.ts";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { conversationTurn, poolToml, SCRIPT_NAME } from "./dashboard_fixtures.ts";

function cssVar(page: Page, name: string): Promise<string> {
  return page.evaluate<string>(
    `getComputedStyle(document.documentElement).getPropertyValue(${JSON.stringify(name)}).trim()`,
  );
}

/** `display` of every element matching `selector`, deduplicated. */
function displays(page: Page, selector: string): Promise<string[]> {
  return page.evaluate<string[]>(
    `[...new Set([...document.querySelectorAll(${
      JSON.stringify(selector)
    })].map((e) => getComputedStyle(e).display))]`,
  );
}

Deno.test("the dashboard works in headless Chromium: login, table, themes, mobile menu", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"], cache: "prefix" });
  await using pool = await startEggPool({ dir: tmp.path, toml: poolToml(mock.url) });
  for (let id = 0; id < 3; id++) assert.equal(await conversationTurn(pool, id, [], 0), 200);
  await using browser = await launchBrowser();
  const page = await browser.newPage();
  await page.setViewport(1400, 900);

  // A private dashboard sends the browser to the login form, which returns it to the page,
  // even after a wrong key first.
  await page.navigate(`${pool.origin}/accounts?period=1h`);
  assert.equal(await page.evaluate<string>("location.pathname"), "/login");
  await page.waitForLoad(() =>
    page.evaluate(
      `document.querySelector("#key").value = "not-the-key";
       document.querySelector("form").requestSubmit();`,
    )
  );
  assert.equal(
    await page.evaluate<string>(`document.querySelector("[role=alert]").textContent`),
    "That key is not the local API key",
  );
  assert.equal(
    await page.evaluate<string>(`document.querySelector("input[name=next]").value`),
    "/accounts?period=1h",
  );
  // The wrong key's 401 (and Chromium's console line about it) was the point.
  assert.deepEqual(page.failedRequests, [`401 ${pool.origin}/login`]);
  assert.equal(page.errors.length, 1);
  assert.match(page.errors[0], /status of 401/);
  page.failedRequests.length = 0;
  page.errors.length = 0;
  await page.waitForLoad(() =>
    page.evaluate(
      `document.querySelector("#key").value = ${JSON.stringify(LOCAL_KEY)};
       document.querySelector("form").requestSubmit();`,
    )
  );
  assert.equal(
    await page.evaluate<string>("location.pathname + location.search"),
    "/accounts?period=1h",
  );
  const names = await page.evaluate<string[]>(
    `[...document.querySelectorAll("table.accounts-table tbody td[data-col=Account]")]
       .map((td) => td.textContent)`,
  );
  assert.deepEqual(names, ["acct-1", "acct-2", SCRIPT_NAME]);
  assert.equal(await page.evaluate<number>("document.scripts.length"), 1, "no injected script");
  assert.equal(await page.evaluate<boolean>("document.cookie.includes('eggpool_session')"), false);
  assert.deepEqual(await displays(page, "th.p3"), ["table-cell"]);
  // A window's utilization: its tag shows the used / limit of every dimension on focus.
  const util = `document.querySelector('tr[data-account="acct-1"] td[data-col="5h util."] .tag')`;
  const bubble = `getComputedStyle(${util}, "::after")`;
  assert.equal(await page.evaluate<string>(`${bubble}.display`), "none");
  await page.evaluate(`${util}.focus()`);
  assert.equal(await page.evaluate<string>(`${bubble}.display`), "block");
  assert.match(
    await page.evaluate<string>(`${bubble}.content`),
    /^"5h window: \d+ \/ 2\.5k requests \(\d+\.\d%\) · \S+ \/ 500M tokens \(\d+\.\d%\) · \$[\d.]+ \/ \$12\.00 spend \(\d+\.\d%\); finished requests only"$/,
  );
  assert.match(
    await page.evaluate<string>(
      `document.querySelector('tr[data-account="acct-1"] td[data-col="BW emitted"]').innerText`,
    ),
    /^\d+(\.\d)? (B|KiB)$/,
  );

  // The theme picker submits itself; the stylesheet's variables follow.
  assert.equal(await cssVar(page, "--page-bg"), "#090808"); // Cyber Red, the configured theme
  await page.waitForLoad(() =>
    page.evaluate(
      `const s = document.querySelector("select[name=theme]");
       s.value = "Dracula";
       s.dispatchEvent(new Event("change"));`,
    )
  );
  assert.equal(await cssVar(page, "--page-bg"), "#1f222d");
  const search = await page.evaluate<string>("location.search");
  assert.equal(new URLSearchParams(search).get("theme"), "Dracula");
  assert.equal(new URLSearchParams(search).get("period"), "1h");
  // Wide tables scroll inside their frame; the page itself never scrolls sideways.
  const pageOverflow =
    "document.documentElement.scrollWidth - document.documentElement.clientWidth";
  assert.equal(await page.evaluate<number>(pageOverflow), 0);

  // A phone: priority 2 and 3 columns hide, the page menu opens from the hamburger.
  await page.setViewport(375, 800, true);
  assert.deepEqual(await displays(page, "th.p3, td.p3"), ["none"]);
  assert.deepEqual(await displays(page, "th.p2, td.p2"), ["none"]);
  assert.deepEqual(await displays(page, "#page-menu"), ["none"]);
  assert.equal(await page.evaluate<number>(pageOverflow), 0);
  const toggle = `document.querySelector(".menu-toggle")`;
  assert.equal(await page.evaluate<string>(`${toggle}.getAttribute("aria-expanded")`), "false");
  await page.evaluate(`${toggle}.click()`);
  assert.equal(await page.evaluate<string>(`${toggle}.getAttribute("aria-expanded")`), "true");
  assert.equal(
    await page.evaluate<string>(`${toggle}.getAttribute("aria-label")`),
    "Close page menu",
  );
  assert.deepEqual(await displays(page, "#page-menu"), ["flex"]);
  // Every control of the open menu, "Log out" last, lies inside the 375 px screen.
  const tools = await page.evaluate<{ text: string; left: number; right: number }[]>(
    `[...document.querySelectorAll(".topbar-tools select, .topbar-tools .button")].map((e) => {
       const r = e.getBoundingClientRect();
       return { text: e.textContent.trim().slice(0, 20), left: r.left, right: r.right };
     })`,
  );
  assert.equal(tools.at(-1)?.text, "Log out");
  for (const t of tools) assert.ok(t.left >= 0 && t.right <= 375, JSON.stringify(t));
  assert.equal(await page.evaluate<number>(pageOverflow), 0);
  await page.screenshot("accounts-375-menu");
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.failedRequests, []);
});

Deno.test("the Overview renders in Chromium and refreshes its content every second", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["mock-small"] });
  const toml = `${poolToml(mock.url)}[dashboard]\npublic = true\nrefresh_interval_s = 1\n`;
  await using pool = await startEggPool({ dir: tmp.path, toml });
  for (let id = 0; id < 2; id++) assert.equal(await conversationTurn(pool, id, [], 0), 200);
  await using browser = await launchBrowser();
  const page = await browser.newPage();
  await page.setViewport(1400, 900);
  await page.navigate(`${pool.origin}/?period=1h`);
  assert.equal(await page.evaluate<string>("document.title"), "Overview · EggPool");
  const requests = `document.querySelector("[data-card=requests] .card-value").textContent`;
  assert.equal(await page.evaluate<string>(requests), "2");
  const pageOverflow =
    "document.documentElement.scrollWidth - document.documentElement.clientWidth";
  assert.equal(await page.evaluate<number>(pageOverflow), 0);

  // New traffic appears without a reload: the content is swapped, the marker shows a time.
  assert.equal(await conversationTurn(pool, 9, [], 0), 200);
  await page.evaluate("window.__sameDocument = true");
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline && await page.evaluate<string>(requests) !== "3") {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(await page.evaluate<string>(requests), "3");
  assert.equal(await page.evaluate<boolean>("window.__sameDocument"), true, "no reload");
  const updated = await page.evaluate<string>(
    `document.getElementById("dashboard-updated").textContent`,
  );
  assert.match(updated, /\d{1,2}:\d{2}:\d{2}/);
  assert.equal(await page.evaluate<number>("document.querySelectorAll('main').length"), 1);
  // The swapped content's chart is drawn again from the new data, once.
  assert.equal(await page.evaluate<number>("EggPoolDashboard.charts.length"), 1);
  const charted = await page.evaluate<number>(
    `EggPoolDashboard.charts[0].data.datasets[0].data.reduce((a, b) => a + b, 0)`,
  );
  assert.equal(charted, 3);
  assert.equal(
    await page.evaluate<boolean>(
      `EggPoolDashboard.charts[0].canvas === document.querySelector("figure[data-chart] canvas")`,
    ),
    true,
  );

  await page.setViewport(375, 800, true);
  assert.equal(await page.evaluate<number>(pageOverflow), 0);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.failedRequests, []);
});
