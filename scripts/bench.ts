/**
 * `deno task bench`: EggPool's added latency, CPU per request, throughput and
 * memory against a direct baseline measured in the same run.
 *
 * The mock upstream and the load generator run in this process; EggPool runs
 * as a real `eggpool serve` subprocess so its CPU time and peak RSS can be read
 * from /proc. Every figure is printed next to the baseline it is compared with.
 */
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { mockProvidersToml } from "../tests/_helpers/eggpool.ts";
import { freePort } from "../tests/_helpers/ops.ts";
import { measureDecisionCost } from "../src/accounts/_bench_fixture.ts";
import { SERVER_V8_FLAG } from "../src/ops/v8_flags.ts";
import { startResponsesUpstream } from "../tests/_helpers/responses_upstream.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const LOCAL_KEY = "ep_bench_local_key_0123456789";
const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux

interface Phase {
  stream: boolean;
  concurrency: number;
  requests: number;
}

const QUICK = Deno.args.includes("--quick");
/**
 * Deno flags for EggPool and the bare forwarder: the server's own V8 heap
 * flags (what `deno task compile` bakes into the binary), unless
 * BENCH_DENO_FLAGS replaces them, e.g. BENCH_DENO_FLAGS="--v8-flags=--prof".
 */
const RUNTIME_FLAGS = (Deno.env.get("BENCH_DENO_FLAGS") ?? SERVER_V8_FLAG).split(" ").filter(
  Boolean,
);
const ONLY_JSON64 = Deno.args.includes("--json64");
/** `--responses`: only the `/v1/responses` table (it carries its own native chat row). */
const ONLY_RESPONSES = Deno.args.includes("--responses");
/**
 * Requests sent through each path (EggPool json, EggPool stream, the bare
 * forwarder) before measuring, so the figures are those of a server that has
 * been running for a while: without Maglev (src/ops/v8_flags.ts) hot code
 * reaches TurboFan after a few thousand requests. BENCH_WARMUP overrides it.
 */
const WARMUP = Number(Deno.env.get("BENCH_WARMUP") ?? (QUICK ? 200 : 3000));
const PHASES: Phase[] = ONLY_RESPONSES ? [] : ONLY_JSON64
  ? [{
    // One phase for profiling runs; BENCH_STREAM=1 makes it the streaming one.
    stream: Deno.env.get("BENCH_STREAM") === "1",
    concurrency: 64,
    requests: Number(Deno.env.get("BENCH_REQUESTS") ?? 8000),
  }]
  : [false, true].flatMap((stream) =>
    [1, 10, 64].map((concurrency) => ({
      stream,
      concurrency,
      requests: QUICK ? 200 : concurrency === 1 ? 1500 : 4000,
    }))
  );

function procCpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

function procPeakRssMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function wrappedPid(wrapperPid: number): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const kids = Deno.readTextFileSync(`/proc/${wrapperPid}/task/${wrapperPid}/children`).trim();
    if (kids !== "") return Number(kids.split(" ")[0]);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("the wrapped EggPool process did not start");
}

/**
 * Counts the instructions a process executes, with `perf stat -p` (Debian's
 * linux-perf). Unlike CPU time, the count barely moves when other work shares
 * the machine. Undefined when perf is missing or the machine has no counters.
 */
async function countInstructions(
  pid: number,
): Promise<(() => Promise<number | undefined>) | undefined> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("perf", {
      args: ["stat", "-x", ",", "-e", "instructions", "-p", String(pid)],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
  } catch {
    return undefined;
  }
  await new Promise((r) => setTimeout(r, 100)); // attached before the load starts
  return async () => {
    try {
      child.kill("SIGINT");
    } catch { /* already gone */ }
    const out = new TextDecoder().decode((await child.output()).stderr);
    const line = out.split("\n").find((l) => l.includes(",instructions"));
    const n = Number(line?.split(",")[0]);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  };
}

async function waitHealthy(origin: string, what: string): Promise<void> {
  for (let i = 0;; i++) {
    try {
      const r = await fetch(`${origin}/v1/healthz`);
      await r.body?.cancel();
      if (r.ok) return;
    } catch { /* starting */ }
    if (i > 400) throw new Error(`${what} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
}

async function load(url: string, headers: Record<string, string>, body: string, phase: Phase) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: phase.concurrency }, async () => {
    while (next < phase.requests) {
      next++;
      const t0 = performance.now();
      const res = await fetch(url, { method: "POST", headers, body });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${url}`);
      latencies.push(performance.now() - t0);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: phase.requests / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  } satisfies Result;
}

/** Like {@linkcode load}, plus the time to the first body chunk (TTFT) of each request. */
async function loadTtft(url: string, headers: Record<string, string>, body: string, phase: Phase) {
  const ttfts: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: phase.concurrency }, async () => {
    while (next < phase.requests) {
      next++;
      const t0 = performance.now();
      const res = await fetch(url, { method: "POST", headers, body });
      if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${url}`);
      const reader = res.body!.getReader();
      await reader.read();
      ttfts.push(performance.now() - t0);
      while (!(await reader.read()).done) { /* drain */ }
    }
  }));
  ttfts.sort((a, b) => a - b);
  return { p50: percentile(ttfts, 0.5), p99: percentile(ttfts, 0.99) };
}

/**
 * An Anthropic client's stream served natively (`mock-small/mockant`) and
 * transcoded to an OpenAI account (`mock-small/mockoai`), same load, same run.
 */
async function transcodedRows(origin: string, headers: Record<string, string>, pid: number) {
  const body = (model: string) =>
    JSON.stringify({
      model,
      stream: true,
      max_tokens: 256,
      messages: [{ role: "user", content: "Summarise the plot of a short story in one line." }],
    });
  const url = `${origin}/v1/messages`;
  const models = [["native", "mock-small/mockant"], ["transcoded", "mock-small/mockoai"]];
  for (const [, model] of models) {
    await loadTtft(url, headers, body(model), { stream: true, concurrency: 8, requests: WARMUP });
  }
  const rows: string[] = [];
  const ttft: Record<string, number> = {};
  for (const concurrency of [1, 10]) {
    const phase = { stream: true, concurrency, requests: QUICK ? 200 : 1500 };
    for (const [label, model] of models) {
      const cpu0 = procCpuSeconds(pid);
      const r = await loadTtft(url, headers, body(model), phase);
      const cpuMs = (procCpuSeconds(pid) - cpu0) * 1000 / phase.requests;
      if (concurrency === 1) ttft[label] = r.p50;
      rows.push(
        `| ${label} | ${concurrency} | ${phase.requests} | ${r.p50.toFixed(2)} | ` +
          `${r.p99.toFixed(2)} | ${cpuMs.toFixed(3)} |`,
      );
    }
  }
  return [
    "",
    "Anthropic client stream (/v1/messages): native Anthropic account vs transcoded to an OpenAI account",
    "",
    "| path | conc. | requests | TTFT p50 ms | TTFT p99 ms | EggPool CPU ms/req |",
    "|---|---|---|---|---|---|",
    ...rows,
    `added TTFT p50 by transcoding at c=1: ${
      (ttft.transcoded - ttft.native).toFixed(3)
    } ms (target <= 1 ms)`,
  ];
}

/**
 * `POST /v1/responses` streams beside the native chat stream, same run: translated to
 * Chat Completions (`mock-small/mockoai`) and passed through to a provider with
 * `responses_path` (`mock-resp`), whose own direct TTFT is the pass-through's baseline.
 */
async function responsesRows(
  origin: string,
  headers: Record<string, string>,
  pid: number,
  respUrl: string,
  chatUrl: string,
) {
  const prompt = "Summarise the plot of a short story in one line.";
  const responses = (model: string) =>
    JSON.stringify({ model, stream: true, store: false, input: prompt });
  const chat = JSON.stringify({
    model: "mock-small/mockoai",
    stream: true,
    messages: [{ role: "user", content: prompt }],
  });
  const direct = { authorization: "Bearer sk-mockresp", "content-type": "application/json" };
  const chatDirect = {
    authorization: "Bearer sk-mockoai-key-1",
    "content-type": "application/json",
  };
  const paths: [string, string, Record<string, string>, string][] = [
    ["chat upstream direct", `${chatUrl}/chat/completions`, chatDirect, chat],
    ["chat stream (native)", `${origin}/v1/chat/completions`, headers, chat],
    ["responses -> chat", `${origin}/v1/responses`, headers, responses("mock-small/mockoai")],
    ["responses pass-through", `${origin}/v1/responses`, headers, responses("mock-resp")],
    ["responses upstream direct", `${respUrl}/responses`, direct, responses("mock-resp")],
  ];
  for (const [, url, h, body] of paths) {
    await loadTtft(url, h, body, { stream: true, concurrency: 8, requests: WARMUP });
  }
  const rows: string[] = [];
  const ttft: Record<string, number> = {};
  for (const concurrency of [1, 10]) {
    const phase = { stream: true, concurrency, requests: QUICK ? 200 : 1500 };
    for (const [label, url, h, body] of paths) {
      const direct = label.endsWith("direct");
      // Instructions are far steadier than CPU time on a busy machine (perf, when present).
      const stopCount = direct ? undefined : await countInstructions(pid);
      const cpu0 = procCpuSeconds(pid);
      const r = await loadTtft(url, h, body, phase);
      const cpuMs = (procCpuSeconds(pid) - cpu0) * 1000 / phase.requests;
      const instructions = await stopCount?.();
      if (concurrency === 1) ttft[label] = r.p50;
      const cpu = direct ? "-" : cpuMs.toFixed(3);
      const kinstr = instructions === undefined
        ? "-"
        : (instructions / phase.requests / 1000).toFixed(0);
      rows.push(
        `| ${label} | ${concurrency} | ${phase.requests} | ${r.p50.toFixed(2)} | ` +
          `${r.p99.toFixed(2)} | ${cpu} | ${kinstr} |`,
      );
    }
  }
  return [
    "",
    "OpenAI client stream: /v1/responses translated to Chat Completions and passed through, beside /v1/chat/completions",
    "(the two direct rows are the upstream mocks without EggPool)",
    "",
    "| path | conc. | requests | TTFT p50 ms | TTFT p99 ms | EggPool CPU ms/req | EggPool kinstr/req |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    `added TTFT p50 at c=1: responses -> chat ${
      (ttft["responses -> chat"] - ttft["chat stream (native)"]).toFixed(3)
    } ms over the native chat stream (which adds ${
      (ttft["chat stream (native)"] - ttft["chat upstream direct"]).toFixed(3)
    } ms over its upstream direct); pass-through ${
      (ttft["responses pass-through"] - ttft["responses upstream direct"]).toFixed(3)
    } ms over its upstream direct`,
  ];
}

/** CPU and instructions per request of scripts/_bench_forwarder.ts under the json c=64 load. */
async function forwarderFloor(upstream: string, body: string) {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      ...RUNTIME_FLAGS,
      `${ROOT}scripts/_bench_forwarder.ts`,
      String(port),
      upstream,
      "sk-mockoai-key-1",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const origin = `http://127.0.0.1:${port}`;
    await waitHealthy(origin, "the bare forwarder");
    const headers = { "content-type": "application/json" };
    const url = `${origin}/v1/chat/completions`;
    await load(url, headers, body, { stream: false, concurrency: 8, requests: WARMUP });
    const phase = { stream: false, concurrency: 64, requests: QUICK ? 200 : 4000 };
    const stopCount = await countInstructions(child.pid);
    const cpu0 = procCpuSeconds(child.pid);
    await load(url, headers, body, phase);
    const cpuMs = (procCpuSeconds(child.pid) - cpu0) * 1000 / phase.requests;
    const instructions = await stopCount?.();
    return {
      cpuMs,
      peakRssMb: procPeakRssMb(child.pid),
      kinstr: instructions === undefined ? undefined : instructions / phase.requests / 1000,
    };
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

async function main() {
  await using mock = await startMockUpstream({ models: ["mock-small"], record: false });
  // A provider that serves /v1/responses itself, for the pass-through row.
  await using resp = await startResponsesUpstream(["mock-resp"], {
    eventDelayMs: 0,
    record: false,
  });
  const tmp = await Deno.makeTempDir({ prefix: "eggpool-bench-" });
  const port = freePort();
  const config = `${tmp}/config.toml`;
  await Deno.writeTextFile(
    config,
    [
      "[server]",
      'host = "127.0.0.1"',
      `port = ${port}`,
      `api_key = "${LOCAL_KEY}"`,
      // Extra [server] keys, e.g. BENCH_SERVER="half_close = true".
      Deno.env.get("BENCH_SERVER") ?? "",
      "[database]",
      `path = "${tmp}/usage.sqlite3"`,
      // Extra config for experiments, e.g. BENCH_TOML=$'[routing]\naffinity = "off"'.
      Deno.env.get("BENCH_TOML") ?? "",
      mockProvidersToml(mock.url, 4),
      `[providers.mockresp]\nid = "mockresp"\nbase_url = "${resp.url}"\nprotocols = ["openai"]`,
      `responses_path = "/responses"\n[[providers.mockresp.accounts]]`,
      `name = "mockresp-1"\napi_key = "sk-mockresp"`,
    ].join("\n"),
  );
  // BENCH_WRAP="perf stat -e instructions -o FILE" runs EggPool under a wrapper (profiling runs).
  const wrap = Deno.env.get("BENCH_WRAP")?.split(" ").filter(Boolean) ?? [];
  const child = new Deno.Command(wrap[0] ?? Deno.execPath(), {
    args: [
      ...(wrap.length > 0 ? [...wrap.slice(1), Deno.execPath()] : []),
      "run",
      "--allow-all",
      ...RUNTIME_FLAGS,
      `--config=${ROOT}deno.json`,
      `${ROOT}main.ts`,
      "--config",
      config,
      "serve",
      "--as-root", // serve refuses root without it (spec 07 §2); harmless otherwise
    ],
    env: { EGGPOOL_PID_FILE: `${tmp}/eggpool.pid`, XDG_STATE_HOME: tmp, XDG_RUNTIME_DIR: tmp },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const origin = `http://127.0.0.1:${port}`;
  // Under a wrapper, EggPool is the wrapper's child: measure and stop that process.
  const pid = wrap.length > 0 ? await wrappedPid(child.pid) : child.pid;
  await waitHealthy(origin, "EggPool");

  const body = (stream: boolean, model: string) =>
    JSON.stringify({
      model,
      stream,
      messages: [{ role: "user", content: "Summarise the plot of a short story in one line." }],
    });
  const directHeaders = {
    authorization: "Bearer sk-mockoai-key-1",
    "content-type": "application/json",
  };
  const proxyHeaders = { authorization: `Bearer ${LOCAL_KEY}`, "content-type": "application/json" };

  // Warm both paths (JIT, connection pools) before measuring.
  for (const stream of ONLY_RESPONSES ? [] : [false, true]) {
    await load(`${mock.url}/chat/completions`, directHeaders, body(stream, "mock-small"), {
      stream,
      concurrency: 8,
      requests: WARMUP,
    });
    await load(`${origin}/v1/chat/completions`, proxyHeaders, body(stream, "mock-small/mockoai"), {
      stream,
      concurrency: 8,
      requests: WARMUP,
    });
  }

  const rows: string[] = [];
  const verdicts: string[] = [];
  let cpuNonStream64 = 0;
  let kinstrNonStream64: number | undefined;
  let addedP50Json = 0;
  for (const phase of PHASES) {
    const direct = await load(
      `${mock.url}/chat/completions`,
      directHeaders,
      body(phase.stream, "mock-small"),
      phase,
    );
    const stopCount = wrap.length > 0 ? undefined : await countInstructions(pid);
    const cpu0 = procCpuSeconds(pid);
    const proxied = await load(
      `${origin}/v1/chat/completions`,
      proxyHeaders,
      body(phase.stream, "mock-small/mockoai"),
      phase,
    );
    const cpuMsPerReq = (procCpuSeconds(pid) - cpu0) * 1000 / phase.requests;
    const instructions = await stopCount?.();
    const kinstr = instructions === undefined
      ? "n/a"
      : (instructions / phase.requests / 1000).toFixed(0);
    if (!phase.stream && phase.concurrency === 64) {
      cpuNonStream64 = cpuMsPerReq;
      kinstrNonStream64 = instructions === undefined
        ? undefined
        : instructions / phase.requests / 1000;
    }
    rows.push(
      `| ${phase.stream ? "stream" : "json"} | ${phase.concurrency} | ${phase.requests} | ` +
        `${direct.rps.toFixed(0)} | ${proxied.rps.toFixed(0)} | ${
          (proxied.rps / direct.rps * 100).toFixed(0)
        }% | ` +
        `${(proxied.p50 - direct.p50).toFixed(2)} | ${(proxied.p99 - direct.p99).toFixed(2)} | ` +
        `${cpuMsPerReq.toFixed(3)} | ${kinstr} | ${procPeakRssMb(pid).toFixed(1)} |`,
    );
    if (phase.concurrency === 1 && !phase.stream) addedP50Json = proxied.p50 - direct.p50;
    if (phase.concurrency === 1) {
      verdicts.push(
        `added p50 at c=1 (${phase.stream ? "stream" : "json"}): ${
          (proxied.p50 - direct.p50).toFixed(3)
        } ms (target <= 0.5 ms)`,
      );
    }
    if (phase.concurrency === 64) {
      verdicts.push(
        `throughput at c=64 (${phase.stream ? "stream" : "json"}): ${
          (proxied.rps / direct.rps * 100).toFixed(0)
        }% of direct (target >= 40%)`,
      );
    }
  }
  const transcoded = ONLY_JSON64 || ONLY_RESPONSES
    ? []
    : await transcodedRows(origin, proxyHeaders, pid);
  const responsesTable = ONLY_JSON64
    ? []
    : await responsesRows(origin, proxyHeaders, pid, resp.url, mock.url);
  const rss = procPeakRssMb(pid);
  Deno.kill(pid, "SIGTERM");
  await child.status;
  const floor = ONLY_JSON64 || ONLY_RESPONSES
    ? undefined
    : await forwarderFloor(mock.url, body(false, "mock-small/mockoai"));
  await Deno.remove(tmp, { recursive: true });

  if (ONLY_RESPONSES) {
    const when = `${new Date().toISOString()}, ${navigator.hardwareConcurrency} cores`;
    console.log(
      [`EggPool benchmark, /v1/responses only (${when}, ${WARMUP} warm-up requests per path)`]
        .concat(responsesTable).join("\n"),
    );
    return;
  }
  const out = [
    `EggPool benchmark (${
      new Date().toISOString()
    }, deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores, ${
      RUNTIME_FLAGS.join(" ") || "no runtime flags"
    }, ${WARMUP} warm-up requests per path)`,
    "",
    "| mode | conc. | requests | direct req/s | via EggPool req/s | ratio | added p50 ms | added p99 ms | EggPool CPU ms/req | EggPool kinstr/req | EggPool peak RSS MB so far |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    `CPU per proxied non-streaming request at c=64: ${
      cpuNonStream64.toFixed(3)
    } ms (target <= 0.35 ms)`,
    ...verdicts,
    `EggPool peak RSS: ${rss.toFixed(1)} MB (target <= 120 MB)`,
    ...transcoded,
    ...responsesTable,
  ];
  if (floor !== undefined) {
    const ratio = floor.kinstr !== undefined && kinstrNonStream64 !== undefined
      ? `; EggPool runs ${(kinstrNonStream64 / floor.kinstr).toFixed(2)}x its instructions`
      : "";
    out.push(
      `Bare Deno forwarder, same load (json, c=64): ${floor.cpuMs.toFixed(3)} ms CPU/req, ` +
        `${floor.kinstr === undefined ? "n/a" : floor.kinstr.toFixed(0)} kinstr/req${ratio}; ` +
        `peak RSS ${floor.peakRssMb.toFixed(1)} MB`,
    );
  }
  // One routing decision over 100 accounts, 10 providers and 50 models, beside
  // the proxy's whole added latency measured above.
  const decision = measureDecisionCost();
  out.push(
    `Routing decision (100 accounts, 10 providers, 50 models): p50 ${
      decision.p50Us.toFixed(1)
    } µs, p99 ${decision.p99Us.toFixed(1)} µs (target p99 < 50 µs); ` +
      `${
        (decision.p50Us / 10 / Math.max(addedP50Json, 0.001)).toFixed(1)
      }% of the added p50 at c=1`,
  );
  console.log(out.join("\n"));
  if (!QUICK && !ONLY_JSON64 && !ONLY_RESPONSES) {
    // The Pi watchdog's fast path, timed from the bundle beside `deno --version`.
    const ops = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", `--config=${ROOT}deno.json`, `${ROOT}scripts/bench_ops.ts`],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (!ops.success) console.log("bench_ops failed");
    // The stats API and the thirteen dashboard pages over one year of history (1M rows,
    // seeded once into a temporary file, about two minutes).
    const history = await Deno.makeTempDir({ prefix: "eggpool-bench-history-" });
    try {
      const db = ["--db", `${history}/history.sqlite3`];
      const script = async (name: string, args: string[] = db) => {
        const run = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--allow-all",
            `--config=${ROOT}deno.json`,
            `${ROOT}scripts/${name}`,
            ...args,
          ],
          stdout: "inherit",
          stderr: "inherit",
        }).output();
        if (!run.success) console.log(`${name} failed`);
        return run.success;
      };
      if (await script("seed_history.ts", [`${history}/history.sqlite3`])) {
        await script("bench_stats.ts");
        await script("bench_pages.ts");
      }
    } finally {
      await Deno.remove(history, { recursive: true });
    }
  }
}

if (import.meta.main) await main();
