/**
 * The Routing page's Transcoding section in headless Chromium with scripts
 * off, at desktop and phone width: after real traffic through EggPool it is
 * visible and names each direction with its figures, from the server's HTML
 * alone.
 */
import assert from "node:assert/strict";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { LOCAL_KEY, oneProtocolToml, postChat, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { launchBrowser, Page } from "./_helpers/browser.ts";

Deno.test("the Transcoding section reads without JavaScript at 1280 and 375 px", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["ant-model"] });
  await using pool = await startEggPool({
    dir: tmp.path,
    toml: oneProtocolToml(mock.url, "anthropic"),
  });
  const hi = [{ role: "user", content: "hi" }];
  for (const extra of [{ top_p: 0.5, seed: 1 }, {}]) {
    const res = await postChat(pool, { model: "ant-model", messages: hi, ...extra });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }
  await using browser = await launchBrowser();
  for (const width of [1280, 375]) {
    const context = await browser.pw.newContext({
      javaScriptEnabled: false,
      viewport: { width, height: 900 },
      extraHTTPHeaders: { authorization: `Bearer ${LOCAL_KEY}` },
    });
    try {
      const page = new Page(await context.newPage());
      await page.pw.goto(`${pool.origin}/routing?period=1h`);
      const section = page.pw.locator("#transcoding");
      assert.ok(await section.isVisible(), `section visible at ${width} px`);
      const row = page.pw.locator('#transcoding tr[data-row="chat_completions→anthropic"]');
      assert.ok(await row.isVisible());
      const cells = (await row.locator("td").allInnerTexts()).filter((t) => t !== "");
      assert.equal(cells[0], "Chat Completions → Anthropic");
      assert.equal(cells[1], "transcoded");
      assert.equal(cells[2], "2", "requests");
      assert.ok(cells.includes("2"), "dropped fields");
      if (width === 1280) {
        assert.equal(
          await row.locator('td[data-col="Most dropped"]').innerText(),
          "seed (1), top_p (1)",
        );
      }
      const cards = await page.pw.locator("#transcoding").innerText();
      assert.match(cards, /Transcoded requests\s+2/);
      assert.match(cards, /Dropped fields\s+2/);
      assert.deepEqual(page.errors, []);
      await page.screenshot(`routing-transcoding-nojs-${width}`);
    } finally {
      await context.close();
    }
  }
});
