/**
 * The dashboard of a running `eggpool demo`, in headless Chromium: signed in
 * with the printed key, its pages filled by the simulated agents alone, and
 * saved as PNGs in test-output/ (gitignored; docs/dashboard.png is a copy).
 */
import assert from "node:assert/strict";
import { launchBrowser } from "./_helpers/browser.ts";
import type { Page } from "./_helpers/browser.ts";
import { isolatedEnv } from "./_helpers/cli.ts";
import { startDemo } from "./_helpers/demo.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const OUTPUT_DIR = new URL("../test-output/", import.meta.url).pathname;
const WIDTH = 1280;
const HEIGHT = 900;
/** Requests the agents must have sent before the pictures are worth taking. */
const FILLED_REQUESTS = 40;

/** Width and height from a PNG's IHDR chunk; throws when the bytes are not a PNG. */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  assert.deepEqual([...bytes.subarray(0, 8)], signature, "not a PNG");
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

async function screenshot(page: Page, name: string): Promise<Uint8Array> {
  const shot = await page.send("Page.captureScreenshot", { format: "png" });
  const bytes = Uint8Array.from(atob(String(shot.data)), (c) => c.charCodeAt(0));
  await Deno.mkdir(OUTPUT_DIR, { recursive: true });
  await Deno.writeFile(`${OUTPUT_DIR}${name}`, bytes);
  return bytes;
}

Deno.test("the demo's dashboard fills from its own traffic and is captured in Chromium", async () => {
  await using tmp = await withTmpDir();
  const env = { ...isolatedEnv(tmp.path), TMPDIR: tmp.path };
  await using demo = await startDemo(["--traffic", "busy", "--port", "0"], {
    cwd: tmp.path,
    env,
  });
  const { origin, localKey } = demo.settings;
  const total = async () => {
    const res = await fetch(`${origin}/api/timeseries?period=1h`, {
      headers: { authorization: `Bearer ${localKey}` },
    });
    return (await res.json()).totals.requests as number;
  };
  for (let i = 0; i < 600 && (await total()) < FILLED_REQUESTS; i++) {
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok((await total()) >= FILLED_REQUESTS);

  await using browser = await launchBrowser();
  const page = await browser.newPage();
  await page.setViewport(WIDTH, HEIGHT);
  await page.navigate(`${origin}/?period=1h`);
  assert.equal(await page.evaluate<string>("location.pathname"), "/login");
  await page.waitForLoad(() =>
    page.evaluate(
      `document.querySelector("#key").value = ${JSON.stringify(localKey)};
       document.querySelector("form").requestSubmit();`,
    )
  );
  assert.equal(await page.evaluate<string>("document.title"), "Overview · EggPool");
  const requests = await page.evaluate<string>(
    `document.querySelector("[data-card=requests] .card-value").textContent`,
  );
  assert.ok(Number(requests.replaceAll(",", "")) >= FILLED_REQUESTS, requests);
  const overview = pngSize(await screenshot(page, "dashboard.png"));
  assert.deepEqual(overview, { width: WIDTH, height: HEIGHT });

  await page.navigate(`${origin}/accounts?period=1h`);
  const accounts = await page.evaluate<string[]>(
    `[...document.querySelectorAll("table.accounts-table tbody td[data-col=Account]")]
       .map((td) => td.textContent)`,
  );
  assert.deepEqual(accounts.toSorted(), [
    "claude-solo",
    "claude-team",
    "openai-flaky",
    "openai-main",
    "openai-spare",
    "slow-1",
  ]);
  assert.deepEqual(pngSize(await screenshot(page, "dashboard-accounts.png")), overview);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(page.failedRequests, []);

  const stopped = await demo.stop("SIGINT");
  assert.equal(stopped.code, 0, stopped.stderr);
});
