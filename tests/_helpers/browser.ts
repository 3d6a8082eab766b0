/**
 * A minimal Chrome DevTools Protocol client for browser tests: launches
 * Debian's headless Chromium with a throwaway profile, talks CDP over Deno's
 * built-in WebSocket with flattened target sessions, and records console
 * errors and failed requests of each page.
 *
 * @example
 * ```ts
 * await using browser = await launchBrowser();
 * const page = await browser.newPage();
 * await page.navigate("http://127.0.0.1:8080/");
 * const title = await page.evaluate<string>("document.title");
 * ```
 */

/** Where Debian's `chromium` package installs the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";
const STARTUP_TIMEOUT_MS = 20_000;
const COMMAND_TIMEOUT_MS = 15_000;

type Json = Record<string, unknown>;
interface Pending {
  resolve(result: Json): void;
  reject(error: Error): void;
}
interface Waiter {
  method: string;
  sessionId?: string;
  resolve(params: Json): void;
}

/** One CDP connection: commands by id, events to listeners and waiters. */
class Connection {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, Pending>();
  readonly #waiters = new Set<Waiter>();
  readonly #listeners: ((method: string, params: Json, sessionId?: string) => void)[] = [];
  readonly closed: Promise<void>;
  #nextId = 1;

  constructor(ws: WebSocket) {
    this.#ws = ws;
    this.closed = new Promise((resolve) => ws.addEventListener("close", () => resolve()));
    ws.addEventListener("message", (event) => this.#receive(JSON.parse(String(event.data))));
  }

  #receive(msg: Json): void {
    if (typeof msg.id === "number") {
      const p = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      const error = msg.error as { message?: string } | undefined;
      if (error) p?.reject(new Error(`CDP error: ${error.message}`));
      else p?.resolve((msg.result ?? {}) as Json);
      return;
    }
    const method = String(msg.method);
    const params = (msg.params ?? {}) as Json;
    const sessionId = msg.sessionId as string | undefined;
    for (const listener of this.#listeners) listener(method, params, sessionId);
    for (const w of [...this.#waiters]) {
      if (w.method !== method || (w.sessionId !== undefined && w.sessionId !== sessionId)) continue;
      this.#waiters.delete(w);
      w.resolve(params);
    }
  }

  send(method: string, params: Json = {}, sessionId?: string): Promise<Json> {
    const id = this.#nextId++;
    this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return withTimeout(
      new Promise<Json>((resolve, reject) => this.#pending.set(id, { resolve, reject })),
      COMMAND_TIMEOUT_MS,
      `CDP ${method}`,
    );
  }

  /** Resolves with the next `method` event (of `sessionId`); call before causing it. */
  waitFor(method: string, sessionId?: string, timeoutMs = COMMAND_TIMEOUT_MS): Promise<Json> {
    let waiter!: Waiter;
    const p = new Promise<Json>((resolve) => {
      waiter = { method, sessionId, resolve };
      this.#waiters.add(waiter);
    });
    return withTimeout(p, timeoutMs, `waiting for ${method}`).finally(() =>
      this.#waiters.delete(waiter)
    );
  }

  listen(listener: (method: string, params: Json, sessionId?: string) => void): void {
    this.#listeners.push(listener);
  }

  close(): Promise<void> {
    for (const p of this.#pending.values()) p.reject(new Error("CDP connection closed"));
    this.#pending.clear();
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.close();
    return this.#ws.readyState === WebSocket.CLOSED ? Promise.resolve() : this.closed;
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One tab, attached through a flattened session. */
export class Page {
  readonly #cdp: Connection;
  readonly sessionId: string;
  /** Console errors, uncaught exceptions and browser log errors (CSP violations, 404s). */
  readonly errors: string[] = [];
  /** Requests that failed or answered with status ≥ 400. */
  readonly failedRequests: string[] = [];

  constructor(cdp: Connection, sessionId: string) {
    this.#cdp = cdp;
    this.sessionId = sessionId;
    cdp.listen((method, params, sid) => {
      if (sid !== sessionId) return;
      this.#record(method, params);
    });
  }

  #record(method: string, params: Json): void {
    if (method === "Runtime.consoleAPICalled" && params.type === "error") {
      const args = params.args as { value?: unknown; description?: string }[];
      this.errors.push(`console: ${args.map((a) => a.value ?? a.description).join(" ")}`);
    } else if (method === "Runtime.exceptionThrown") {
      const d = params.exceptionDetails as { text?: string; exception?: { description?: string } };
      this.errors.push(`exception: ${d.exception?.description ?? d.text}`);
    } else if (method === "Log.entryAdded") {
      const entry = params.entry as { level: string; text: string; url?: string };
      if (entry.level === "error") this.errors.push(`log: ${entry.text} ${entry.url ?? ""}`);
    } else if (method === "Network.responseReceived") {
      const r = params.response as { status: number; url: string };
      if (r.status >= 400) this.failedRequests.push(`${r.status} ${r.url}`);
    } else if (method === "Network.loadingFailed") {
      this.failedRequests.push(`${params.errorText} (${params.type})`);
    }
  }

  send(method: string, params: Json = {}): Promise<Json> {
    return this.#cdp.send(method, params, this.sessionId);
  }

  /** Runs `action` (which starts a navigation) and waits for the new page's load event. */
  async waitForLoad(action: () => Promise<unknown>): Promise<void> {
    const loaded = this.#cdp.waitFor("Page.loadEventFired", this.sessionId);
    await action();
    await loaded;
  }

  /** Navigates and waits for the load event. */
  navigate(url: string): Promise<void> {
    return this.waitForLoad(async () => {
      const r = await this.send("Page.navigate", { url });
      if (r.errorText) throw new Error(`Cannot navigate to ${url}: ${r.errorText}`);
    });
  }

  /** Evaluates `expression` in the page (promises awaited) and returns its JSON value. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    const thrown = r.exceptionDetails as { exception?: { description?: string } } | undefined;
    if (thrown) throw new Error(`Evaluation failed: ${thrown.exception?.description}`);
    return (r.result as { value: T }).value;
  }

  /** Emulates a viewport of `width` × `height` CSS pixels. */
  async setViewport(width: number, height: number, mobile = false): Promise<void> {
    await this.send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor: 1,
      mobile,
    });
  }
}

/** A running headless Chromium; dispose it to kill the process and remove its profile. */
export interface Browser extends AsyncDisposable {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Reads stderr until the DevTools line, then keeps draining so Chromium never blocks on it. */
async function devToolsUrl(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stderr.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`Chromium exited before DevTools was ready:\n${seen.slice(-2000)}`);
    seen += decoder.decode(value, { stream: true });
    const m = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
    if (m) {
      (async () => {
        while (!(await reader.read()).done) { /* discard */ }
      })().catch(() => {});
      return m[1];
    }
  }
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
  const profile = await Deno.makeTempDir({ prefix: "eggpool-chromium-" });
  const child = new Deno.Command(CHROMIUM_PATH, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--no-default-browser-check",
      "--remote-debugging-port=0",
      `--user-data-dir=${profile}`,
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let cdp: Connection | undefined;
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= shutdown());
  const shutdown = async () => {
    try {
      await cdp?.send("Browser.close").catch(() => {});
      await cdp?.close();
    } finally {
      const exited = await withTimeout(child.status, 5_000, "Chromium exit").catch(() => null);
      if (exited === null) {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
        await child.status;
      }
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  };
  try {
    const ready = devToolsUrl(child.stderr);
    ready.catch(() => {}); // a timeout below wins the race; this rejection is then moot
    const url = await withTimeout(ready, STARTUP_TIMEOUT_MS, "Chromium");
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve());
      ws.addEventListener("error", () => reject(new Error(`Cannot connect to ${url}`)));
    });
    cdp = new Connection(ws);
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await close();
    throw error;
  }
  const connection = cdp;
  return {
    async newPage() {
      const { targetId } = await connection.send("Target.createTarget", { url: "about:blank" });
      const { sessionId } = await connection.send("Target.attachToTarget", {
        targetId,
        flatten: true,
      });
      const page = new Page(connection, String(sessionId));
      for (const domain of ["Page", "Runtime", "Network", "Log"]) {
        await page.send(`${domain}.enable`);
      }
      return page;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
