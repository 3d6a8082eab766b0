/**
 * What the dashboard's browser tests share: a pool whose first account's
 * name is markup, traffic through the proxy, signing in with the login form,
 * and two in-page probes (text contrast as the browser computes it, and how
 * many pixels of a chart canvas are exactly a theme colour).
 */
import assert from "node:assert/strict";
import type { Page } from "./browser.ts";
import { LOCAL_KEY, postChat } from "./eggpool.ts";
import type { TestEggPool } from "./eggpool.ts";

/** An account name that would run script if any page put it into the DOM as markup. */
export const IMG_NAME = "<img src=x onerror=alert(1)>";

/**
 * Provider `p` over the mock: account IMG_NAME (key k-1), then each of `more`
 * (keys k-2, k-3, …), then `extra` lines (e.g. a `[dashboard]` table).
 */
export function dashboardToml(mockUrl: string, extra = "", more: readonly string[] = []): string {
  const lines = ["[providers.p]", 'id = "p"', `base_url = "${mockUrl}"`];
  [IMG_NAME, ...more].forEach((name, i) => {
    lines.push("[[providers.p.accounts]]", `name = '${name}'`, `api_key = "k-${i + 1}"`);
  });
  return [...lines, extra].join("\n") + "\n";
}

/** `n` successful chat requests for `model`, each a new conversation. */
export async function traffic(pool: TestEggPool, n: number, model = "mock-small"): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await postChat(pool, { model, messages: [{ role: "user", content: `hi ${i}` }] });
    assert.equal(res.status, 200);
    await res.text();
  }
}

/** Signs `page` in through the login form with the local key. */
export async function signIn(page: Page, origin: string): Promise<void> {
  await page.navigate(`${origin}/login`);
  await page.waitForLoad(() =>
    page.evaluate(
      `document.querySelector("#key").value = ${JSON.stringify(LOCAL_KEY)};
       document.querySelector("form").requestSubmit();`,
    )
  );
}

/** In-page: the WCAG ratio of each selector's text against its nearest painted background. */
export const CONTRAST_PROBE = `(() => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const sel of [
    "main h1", "main h2", ".stat-card h3", ".card-detail", ".chip", "th", "td", ".nav a",
    ".nav a.active", ".footer", ".tag", ".period-selector a", "select", "a.button",
    "figcaption", ".heatmap-caption", "dt", "dd", "label", "li", ".muted",
  ]) {
    for (const el of document.querySelectorAll(sel)) {
      if (!el.textContent.trim() || el.getClientRects().length === 0) continue;
      const fg = rgb(getComputedStyle(el).color).slice(0, 3);
      const [a, b] = [lum(fg), lum(background(el))];
      out.push({ sel, ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05) });
    }
  }
  return out;
})()`;

/** What {@linkcode canvasPixels} reports. */
export interface CanvasPixels {
  hex: string;
  drawn: number;
  match: number;
  visible: boolean;
}

/**
 * In-page: how many pixels of the canvas under `figure` (a CSS selector) are
 * exactly the theme's `cssVar` colour, how many are drawn, and whether it shows.
 */
export function canvasPixels(figure: string, cssVar: string): string {
  return `(() => {
    const canvas = document.querySelector(${JSON.stringify(`${figure} canvas`)});
    const hex = getComputedStyle(document.documentElement).getPropertyValue(${
    JSON.stringify(cssVar)
  }).trim();
    const want = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    let drawn = 0, match = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] === 0) continue;
      drawn++;
      if (data[i] === want[0] && data[i + 1] === want[1] && data[i + 2] === want[2]) match++;
    }
    return { hex, drawn, match, visible: canvas.getClientRects().length > 0 };
  })()`;
}

/** Asserts that every probed text on the page reaches WCAG AA (4.5:1); returns the count. */
export async function assertContrast(page: Page, label: string): Promise<number> {
  const probes = await page.evaluate<{ sel: string; ratio: number }[]>(CONTRAST_PROBE);
  assert.deepEqual(probes.filter((p) => p.ratio < 4.5), [], label);
  return probes.length;
}
