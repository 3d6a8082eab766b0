/**
 * `deno run -A scripts/flood_rss.ts [--rounds N] [--connections N]`: does a
 * connection flood leave memory behind? Starts a real `serve`, then N times
 * opens a flood of idle and half-sent connections (half of each), holds it
 * 3 s, closes it and waits 8 s. After each round it prints the process's RSS
 * (from /proc) beside the JavaScript heap the server reports on
 * `/api/stats/runtime`, so native memory and heap can be told apart.
 * docs/reliability.md quotes a run.
 */
import { parseArgs } from "node:util";

const ROOT = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({
  args: Deno.args,
  options: { rounds: { type: "string" }, connections: { type: "string" } },
});
const rounds = Number(values.rounds ?? 5);
const connections = Number(values.connections ?? 2000);
const KEY = "ep_flood_measure_only_key_0123456789";

const dir = await Deno.makeTempDir({ prefix: "eggpool-flood-" });
const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const port = (probe.addr as Deno.NetAddr).port;
probe.close();
await Deno.writeTextFile(
  `${dir}/config.toml`,
  [
    "[server]",
    `port = ${port}`,
    'host = "127.0.0.1"',
    `api_key = "${KEY}"`,
    "[database]",
    `path = "${dir}/usage.sqlite3"`,
    "[providers.local]",
    'id = "local"',
    'base_url = "http://127.0.0.1:9/v1"',
    'static_models = [{ id = "m" }]',
    'models_endpoint = { method = "DISABLED" }',
    "[[providers.local.accounts]]",
    'name = "local-1"',
    'api_key = "k-flood"',
    "",
  ].join("\n"),
);
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--allow-all",
    "--v8-flags=--max-semi-space-size=8,--heap-growing-percent=50,--no-maglev",
    `${ROOT}main.ts`,
    "--config",
    `${dir}/config.toml`,
    "serve",
  ],
  env: { HOME: dir, XDG_STATE_HOME: `${dir}/state` },
  stdout: "null",
  stderr: "null",
}).spawn();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

function rssBytes(): number {
  const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
  return Number(status.match(/^VmRSS:\s+(\d+) kB$/m)?.[1] ?? NaN) * 1024;
}

async function heapBytes(): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${port}/api/stats/runtime`, {
    headers: { authorization: `Bearer ${KEY}` },
  });
  const body = await r.json() as { memory?: { heapUsedBytes?: number } };
  return body.memory?.heapUsedBytes ?? NaN;
}

try {
  for (let waited = 0;; waited += 50) {
    if (waited > 30_000) throw new Error("serve did not answer in 30 s");
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v1/healthz`);
      await r.body?.cancel();
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  await sleep(3000);
  console.log(`idle: RSS ${mb(rssBytes())} MB, JS heap used ${mb(await heapBytes())} MB`);
  const partial = new TextEncoder().encode("GET /v1/healthz HTTP/1.1\r\nHo");
  for (let round = 1; round <= rounds; round++) {
    const open: Deno.Conn[] = [];
    for (let i = 0; i < connections; i++) {
      try {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        if (i % 2 === 1) await c.write(partial);
        open.push(c);
      } catch {
        break;
      }
    }
    await sleep(3000);
    const during = rssBytes();
    for (const c of open) {
      try {
        c.close();
      } catch {
        // already closed by the server
      }
    }
    await sleep(8000);
    console.log(
      `round ${round}: ${open.length} connections; RSS ${mb(during)} MB held, ${
        mb(rssBytes())
      } MB after; JS heap used ${mb(await heapBytes())} MB`,
    );
  }
} finally {
  child.kill("SIGTERM");
  await child.status;
  await Deno.remove(dir, { recursive: true });
}
