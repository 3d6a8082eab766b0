/**
 * Browser tests drive Debian's headless Chromium through `playwright-core`
 * (no browser download: `executablePath` points at the system package). Each
 * page records its console errors, uncaught exceptions and failed requests,
 * and can write screenshots to `test-output/screenshots/` (gitignored).
 *
 * The small string-expression API (`navigate`, `evaluate`, `setViewport`,
 * `waitForLoad`, raw `send`) is kept from the earlier hand-written DevTools
 * client so tests written against it still run; `page.pw` is the Playwright
 * page for anything more.
 *
 * @example
 * ```ts
 * await using browser = await launchBrowser();
 * const page = await browser.newPage();
 * await page.navigate("http://127.0.0.1:8080/");
 * const title = await page.evaluate<string>("document.title");
 * await page.screenshot("overview-1280");
 * ```
 */
import { chromium } from "playwright-core";
import type {
  Browser as PwBrowser,
  BrowserContext,
  CDPSession,
  Page as PwPage,
} from "playwright-core";

/** Where Debian's `chromium` package installs the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";
/** Where screenshots go (gitignored), relative to the repository root. */
export const SCREENSHOT_DIR = new URL("../../test-output/screenshots/", import.meta.url);

/** Flags for a quiet, offline headless browser on a shared CI box. */
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-quic",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

/** One tab in its own browser context (own cookies), with what went wrong on it. */
export class Page {
  /** The Playwright page, for anything the small API below does not cover. */
  readonly pw: PwPage;
  /** Console errors, uncaught exceptions and page dialogs. */
  readonly errors: string[] = [];
  /** Requests that failed or answered with status ≥ 400. */
  readonly failedRequests: string[] = [];
  /** Requests cancelled because the page navigated away first (e.g. a late favicon fetch). */
  readonly abortedRequests: string[] = [];
  /** Messages of `alert`/`confirm`/`prompt` dialogs the page opened (each is dismissed). */
  readonly dialogs: string[] = [];
  #cdp: CDPSession | undefined;

  constructor(pw: PwPage) {
    this.pw = pw;
    pw.on("console", (msg) => {
      if (msg.type() === "error") this.errors.push(`console: ${msg.text()}`);
    });
    pw.on("pageerror", (error) => this.errors.push(`exception: ${error.message}`));
    pw.on("requestfailed", (req) => {
      const why = req.failure()?.errorText ?? "failed";
      const list = why === "net::ERR_ABORTED" ? this.abortedRequests : this.failedRequests;
      list.push(`${why} ${req.url()}`);
    });
    pw.on("response", (res) => {
      if (res.status() >= 400) this.failedRequests.push(`${res.status()} ${res.url()}`);
    });
    pw.on("dialog", (dialog) => {
      this.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      dialog.dismiss().catch(() => {});
    });
  }

  /** Sends a raw DevTools Protocol command to this tab (kept from the earlier helper). */
  async send(
    method: string,
    params: Record<string, unknown> = {},
  ): Promise<Record<string, unknown>> {
    this.#cdp ??= await this.pw.context().newCDPSession(this.pw);
    // deno-lint-ignore no-explicit-any -- CDP method names are typed per method; callers pass any
    return await this.#cdp.send(method as any, params) as Record<string, unknown>;
  }

  /** Runs `action` (which starts a navigation) and waits for the new page's load event. */
  async waitForLoad(action: () => Promise<unknown>): Promise<void> {
    await Promise.all([this.pw.waitForNavigation({ waitUntil: "load" }), action()]);
  }

  /** Navigates and waits for the load event; throws on a network failure. */
  async navigate(url: string): Promise<void> {
    await this.pw.goto(url, { waitUntil: "load" });
  }

  /** Evaluates a JavaScript expression (or statements) in the page, promises awaited. */
  evaluate<T>(expression: string): Promise<T> {
    return this.pw.evaluate(expression) as Promise<T>;
  }

  /**
   * Sets the viewport to `width` × `height` CSS pixels (media queries follow). `mobile` is kept
   * for callers of the earlier helper: a phone-sized viewport is what the stylesheet responds to,
   * and Playwright's screenshots need the viewport it set itself.
   */
  async setViewport(width: number, height: number, _mobile = false): Promise<void> {
    await this.pw.setViewportSize({ width, height });
  }

  /** Writes a full-page PNG to `test-output/screenshots/<name>.png` and returns its path. */
  async screenshot(name: string): Promise<string> {
    await Deno.mkdir(SCREENSHOT_DIR, { recursive: true });
    const path = new URL(`${name.replace(/[^A-Za-z0-9_.-]/g, "_")}.png`, SCREENSHOT_DIR).pathname;
    await this.pw.screenshot({ path, fullPage: true });
    return path;
  }
}

/** A running headless Chromium; dispose it to close every page and end the process. */
export interface Browser extends AsyncDisposable {
  /** A new tab in a fresh context (no cookies shared with other pages). */
  newPage(): Promise<Page>;
  close(): Promise<void>;
  /** The Playwright browser. */
  pw: PwBrowser;
}

/** Launches headless Chromium; fails with a clear message when it is not installed. */
export async function launchBrowser(): Promise<Browser> {
  try {
    await Deno.stat(CHROMIUM_PATH);
  } catch {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}: install the Debian package "chromium" ` +
        "(apt-get install --no-install-recommends chromium; .ci/run does this in CI)",
    );
  }
  const pw = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const contexts: BrowserContext[] = [];
  let closing: Promise<void> | undefined;
  const close = () =>
    closing ??= (async () => {
      for (const c of contexts) await c.close().catch(() => {});
      await pw.close();
    })();
  return {
    pw,
    async newPage() {
      const context = await pw.newContext({ viewport: { width: 1280, height: 900 } });
      contexts.push(context);
      return new Page(await context.newPage());
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
