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
import { PROBE_KEY, startProbeServer } from "./_probe_server.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const { values } = parseArgs({
  args: Deno.args,
  options: { rounds: { type: "string" }, connections: { type: "string" } },
});
const rounds = Number(values.rounds ?? 5);
const connections = Number(values.connections ?? 2000);
const dir = await Deno.makeTempDir({ prefix: "eggpool-flood-" });
const server = await startProbeServer(`${ROOT}main.ts`, dir);
const port = server.port;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

async function heapBytes(): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${port}/api/stats/runtime`, {
    headers: { authorization: `Bearer ${PROBE_KEY}` },
  });
  const body = await r.json() as { memory?: { heapUsedBytes?: number } };
  return body.memory?.heapUsedBytes ?? NaN;
}

try {
  await sleep(3000);
  console.log(`idle: RSS ${mb(server.rssBytes())} MB, JS heap used ${mb(await heapBytes())} MB`);
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
    const during = server.rssBytes();
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
        mb(server.rssBytes())
      } MB after; JS heap used ${mb(await heapBytes())} MB`,
    );
  }
} finally {
  await server.stop();
  await Deno.remove(dir, { recursive: true });
}
