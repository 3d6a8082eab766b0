/**
 * `deno task soak`: a real `eggpool serve` under mixed traffic for a fixed
 * time while faults are injected from every side, then an account of what
 * was lost.
 *
 * Traffic: multi-turn conversations over both protocols, streamed and not,
 * from `--concurrency` clients. Faults, each on its own clock:
 * - the server is killed with SIGKILL and started again (`--kill-every-s`);
 * - a second process holds `BEGIN EXCLUSIVE` on the database (`--lock-every-s`,
 *   `--lock-hold-s`);
 * - a flood of idle and half-sent connections (`--flood-every-s`,
 *   `--flood-connections`, `--flood-hold-s`);
 * - the mock providers answer 429 or 500, stall or cut streams
 *   (`--fault-every-s`).
 *
 * Every answer carries `x-proxy-request-id`; at the end each id the clients saw
 * is looked up in the database. A missing row is "lost"; it counts against the
 * write mode's documented loss window (`--window-s`, see docs/reliability.md)
 * when the client saw it finish within that many seconds before a kill.
 * Crashes are exits the soak did not cause. Exit code 1 when a target is missed
 * (a crash, a row lost beyond the window, a row left pending after the final
 * clean stop).
 *
 * Loopback only: the mock providers and the server listen on 127.0.0.1.
 */
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import type { MockFault } from "../src/sim/mock_upstream.ts";
import { freePort } from "../tests/_helpers/ops.ts";
import { mockProvidersToml } from "../tests/_helpers/eggpool.ts";
import { SERVER_V8_FLAG } from "../src/ops/v8_flags.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const LOCAL_KEY = "ep_soak_local_key_0123456789";
const ACCOUNTS_PER_PROVIDER = 3;
/** The providers `mockProvidersToml` writes: one OpenAI, one Anthropic. */
const PROVIDER_IDS = ["mockoai", "mockant"] as const;

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "10" },
    concurrency: { type: "string", default: "12" },
    "kill-every-s": { type: "string", default: "120" },
    "lock-every-s": { type: "string", default: "60" },
    "lock-hold-s": { type: "string", default: "10" },
    "flood-every-s": { type: "string", default: "180" },
    "flood-connections": { type: "string", default: "2000" },
    "flood-hold-s": { type: "string", default: "10" },
    "fault-every-s": { type: "string", default: "5" },
    "window-s": { type: "string", default: "2" },
    "write-mode": { type: "string" },
    "half-close": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});

if (flags.help) {
  console.log(
    [
      "deno task soak [options]",
      "  --minutes N            how long traffic runs (default 10)",
      "  --concurrency N        parallel clients (default 12)",
      "  --kill-every-s N       SIGKILL and restart the server (default 120; 0 = never)",
      "  --lock-every-s N       hold BEGIN EXCLUSIVE from another process (default 60; 0 = never)",
      "  --lock-hold-s N        how long each lock is held (default 10)",
      "  --flood-every-s N      open a connection flood (default 180; 0 = never)",
      "  --flood-connections N  connections per flood (default 2000)",
      "  --flood-hold-s N       how long the flood is held open (default 10)",
      "  --fault-every-s N      queue an upstream fault on a random account (default 5)",
      "  --window-s N           documented loss window of the write mode (default 2)",
      "  --write-mode MODE      [metrics] write_mode for the server (default: the config default)",
      "  --half-close           serve with [server] half_close = true (every socket relayed)",
      "  --keep                 keep the temporary directory (database and server log)",
    ].join("\n"),
  );
  Deno.exit(0);
}

function positive(name: keyof typeof flags): number {
  const n = Number(flags[name]);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`--${name} must be a non-negative number, got ${flags[name]}`);
    Deno.exit(2);
  }
  return n;
}

const O = {
  durationMs: positive("minutes") * 60_000,
  concurrency: Math.max(1, Math.floor(positive("concurrency"))),
  killEveryMs: positive("kill-every-s") * 1000,
  lockEveryMs: positive("lock-every-s") * 1000,
  lockHoldMs: positive("lock-hold-s") * 1000,
  floodEveryMs: positive("flood-every-s") * 1000,
  floodConnections: Math.floor(positive("flood-connections")),
  floodHoldMs: positive("flood-hold-s") * 1000,
  faultEveryMs: positive("fault-every-s") * 1000,
  windowMs: positive("window-s") * 1000,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const since = (t: number) => ((t - t0) / 1000).toFixed(1).padStart(6);
const note = (m: string) => console.log(`[${since(Date.now())} s] ${m}`);

function procRssMb(pid: number): number | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return Number.isFinite(kb) && kb > 0 ? kb / 1024 : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- the server

interface Exit {
  at: number;
  code: number;
  signal: string | null;
  expected: boolean;
}

/** One `eggpool serve` at a time, restarted after each kill. */
class Server {
  readonly origin: string;
  child?: Deno.ChildProcess;
  life = 0;
  startedAt = 0;
  readonly exits: Exit[] = [];
  #expectExit = false;

  constructor(
    readonly port: number,
    readonly configPath: string,
    readonly dir: string,
    readonly logPath: string,
  ) {
    this.origin = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const log = await Deno.open(this.logPath, { append: true, create: true });
    this.#expectExit = false;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        SERVER_V8_FLAG,
        `--config=${ROOT}deno.json`,
        `${ROOT}main.ts`,
        "--config",
        this.configPath,
        "serve",
        "--as-root",
      ],
      env: {
        EGGPOOL_PID_FILE: `${this.dir}/eggpool.pid`,
        XDG_STATE_HOME: this.dir,
        XDG_RUNTIME_DIR: this.dir,
      },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    child.stderr.pipeTo(log.writable).catch(() => {});
    this.child = child;
    this.life++;
    this.startedAt = Date.now();
    const life = this.life;
    child.status.then((s) => {
      const expected = this.#expectExit && this.life === life;
      this.exits.push({ at: Date.now(), code: s.code, signal: s.signal, expected });
      if (!expected) {
        note(`server life ${life} exited on its own: code ${s.code} ${s.signal ?? ""}`);
      }
    });
    for (let i = 0;; i++) {
      try {
        const r = await fetch(`${this.origin}/v1/healthz`, { signal: AbortSignal.timeout(2000) });
        await r.body?.cancel();
        if (r.ok) return;
      } catch { /* starting */ }
      if (i > 600) throw new Error("the server did not answer /v1/healthz within 60 s");
      await sleep(100);
    }
  }

  async kill9(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.#expectExit = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
  }

  async stop(): Promise<number> {
    const child = this.child;
    if (!child) return 0;
    this.#expectExit = true;
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 60_000);
    const s = await child.status;
    clearTimeout(timer);
    return s.code;
  }
}

// ---------------------------------------------------------------- traffic

type Kind = "openai-json" | "openai-stream" | "anthropic-json" | "anthropic-stream";
const KINDS: Kind[] = ["openai-json", "openai-stream", "anthropic-json", "anthropic-stream"];

interface Seen {
  id: string;
  kind: Kind;
  status: number;
  /** The body was read to its end (false: cut, e.g. by a kill). */
  whole: boolean;
  startedAt: number;
  endedAt: number;
}

const seen: Seen[] = [];
const counts = { sent: 0, noAnswer: 0, byStatus: new Map<number, number>() };
let stopping = false;

function requestFor(kind: Kind, turns: string[]): { url: string; body: string } {
  const openai = kind.startsWith("openai");
  const stream = kind.endsWith("stream");
  const messages = turns.map((content, i) => ({
    role: i % 2 === 0 ? "user" : "assistant",
    content,
  }));
  const body = openai
    ? { model: "mock-small/mockoai", stream, messages }
    : { model: "mock-small/mockant", stream, max_tokens: 256, messages };
  return { url: openai ? "/v1/chat/completions" : "/v1/messages", body: JSON.stringify(body) };
}

async function client(server: Server, n: number): Promise<void> {
  let turns: string[] = [];
  let kind = KINDS[n % KINDS.length];
  let conversation = 0;
  while (!stopping) {
    if (turns.length === 0 || turns.length > 9) {
      conversation++;
      kind = KINDS[(n + conversation) % KINDS.length];
      turns = [`Conversation ${n}.${conversation}: plan a small garden with ${n} beds.`];
    }
    const { url, body } = requestFor(kind, turns);
    const startedAt = Date.now();
    counts.sent++;
    let id: string | null = null;
    let status = 0;
    try {
      const res = await fetch(`${server.origin}${url}`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${LOCAL_KEY}`,
          "content-type": "application/json",
          "anthropic-version": "2023-06-01",
          "x-session-id": `soak-${n}-${conversation}`,
        },
        body,
        signal: AbortSignal.timeout(120_000),
      });
      id = res.headers.get("x-proxy-request-id");
      status = res.status;
      const text = await res.text();
      counts.byStatus.set(status, (counts.byStatus.get(status) ?? 0) + 1);
      if (id) seen.push({ id, kind, status, whole: true, startedAt, endedAt: Date.now() });
      if (status === 200) {
        turns.push(`reply ${text.length}`, `Turn ${turns.length}: go on.`);
      } else {
        await sleep(100);
      }
    } catch {
      if (id) seen.push({ id, kind, status, whole: false, startedAt, endedAt: Date.now() });
      else counts.noAnswer++;
      turns = [];
      await sleep(200);
    }
    await sleep(30);
  }
}

// ---------------------------------------------------------------- faults

const kills: number[] = [];
const locks: { at: number; heldMs: number; error?: string }[] = [];
const floods: { at: number; opened: number; healthDuring: string; healthAfter: string }[] = [];
let faultsQueued = 0;

function accountKeys(): string[] {
  return PROVIDER_IDS.flatMap((id) =>
    Array.from({ length: ACCOUNTS_PER_PROVIDER }, (_, i) => `sk-${id}-key-${i + 1}`)
  );
}

function randomFault(): MockFault {
  const r = Math.random();
  if (r < 0.3) return { status: 429, retryAfter: 3, times: 3 };
  if (r < 0.5) return { status: 500, times: 2 };
  if (r < 0.7) return { dropAfterFrames: 3, times: 2 };
  if (r < 0.85) return { stallAfterFrames: 2, times: 1 };
  return { delayMs: 2_000, times: 3 };
}

async function holdLock(dbPath: string, ms: number): Promise<void> {
  // Another process, as in the report: a lock taken in this one would stall the soak's own clients.
  const script = `
    import { DatabaseSync } from "node:sqlite";
    const db = new DatabaseSync(${JSON.stringify(dbPath)});
    db.exec("PRAGMA busy_timeout = 30000");
    db.exec("BEGIN EXCLUSIVE");
    console.log("locked");
    setTimeout(() => { db.exec("ROLLBACK"); db.close(); }, ${ms});
  `;
  const started = Date.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const error = out.success ? undefined : new TextDecoder().decode(out.stderr).trim().slice(0, 200);
  locks.push({ at: started, heldMs: Date.now() - started, error });
}

async function health(server: Server): Promise<string> {
  try {
    const r = await fetch(`${server.origin}/v1/healthz`, { signal: AbortSignal.timeout(5_000) });
    await r.body?.cancel();
    return String(r.status);
  } catch (e) {
    return e instanceof Error ? e.name : "error";
  }
}

async function flood(server: Server): Promise<void> {
  const conns: Deno.Conn[] = [];
  const at = Date.now();
  const partial = new TextEncoder().encode("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n");
  for (let i = 0; i < O.floodConnections && !stopping; i++) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      // Half of them start a request and never finish its head (slowloris).
      if (i % 2 === 0) await c.write(partial).catch(() => {});
      conns.push(c);
    } catch {
      break; // refused or out of descriptors: the flood is as big as it gets
    }
  }
  const healthDuring = await health(server);
  await sleep(O.floodHoldMs);
  for (const c of conns) {
    try {
      c.close();
    } catch { /* closed by the server */ }
  }
  await sleep(500);
  floods.push({ at, opened: conns.length, healthDuring, healthAfter: await health(server) });
}

/** Runs `task` every `everyMs` (first after one period) until stopped; 0 = never. */
async function every(everyMs: number, task: () => Promise<void>): Promise<void> {
  if (everyMs <= 0) return;
  const end = t0 + O.durationMs;
  for (let next = Date.now() + everyMs; next < end; next += everyMs) {
    while (Date.now() < next && !stopping) await sleep(Math.min(500, next - Date.now()));
    if (stopping) return;
    await task();
  }
}

// ---------------------------------------------------------------- sampling

interface Sample {
  at: number;
  life: number;
  lifeAgeS: number;
  rssMb?: number;
  lagMaxMs?: number;
  pendingWrites?: number;
  status?: string;
}
const samples: Sample[] = [];

async function sample(server: Server): Promise<void> {
  const s: Sample = {
    at: Date.now(),
    life: server.life,
    lifeAgeS: Math.round((Date.now() - server.startedAt) / 1000),
    rssMb: server.child ? procRssMb(server.child.pid) : undefined,
  };
  try {
    const r = await fetch(`${server.origin}/api/stats/runtime`, {
      headers: { authorization: `Bearer ${LOCAL_KEY}` },
      signal: AbortSignal.timeout(5_000),
    });
    const j = await r.json();
    s.lagMaxMs = j.eventLoop?.maxMs;
    s.pendingWrites = j.requests?.pendingWrites;
    s.status = j.status;
  } catch { /* down or restarting */ }
  samples.push(s);
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "eggpool-soak-" });
  const dbPath = `${dir}/usage.sqlite3`;
  await using mock = await startMockUpstream({
    keys: accountKeys(),
    models: ["mock-small"],
    cache: "prefix",
    record: false,
    latency: { headersMs: 20, firstByteMs: 20, perFrameMs: 10 },
  });
  const port = freePort();
  const configPath = `${dir}/config.toml`;
  await Deno.writeTextFile(
    configPath,
    [
      "[server]",
      'host = "127.0.0.1"',
      `port = ${port}`,
      `api_key = "${LOCAL_KEY}"`,
      ...(flags["half-close"] ? ["half_close = true"] : []),
      "[upstream]",
      // A stalled stream is cut after this long; the clients wait longer.
      "stream_idle_timeout_s = 15",
      "read_timeout_s = 60",
      "[database]",
      `path = "${dbPath}"`,
      ...(flags["write-mode"] ? ["[metrics]", `write_mode = "${flags["write-mode"]}"`] : []),
      mockProvidersToml(mock.url, ACCOUNTS_PER_PROVIDER),
    ].join("\n") + "\n",
  );
  const server = new Server(port, configPath, dir, `${dir}/server.log`);
  console.log(
    `EggPool soak: ${O.durationMs / 60_000} min, ${O.concurrency} clients, kill every ${
      O.killEveryMs / 1000
    } s, lock ${O.lockHoldMs / 1000} s every ${
      O.lockEveryMs / 1000
    } s, flood of ${O.floodConnections} every ${O.floodEveryMs / 1000} s, a fault every ${
      O.faultEveryMs / 1000
    } s; write_mode ${flags["write-mode"] ?? "(default)"}; dir ${dir}`,
  );
  await server.start();
  note(`server up on ${server.origin} (pid ${server.child!.pid})`);

  const clients = Array.from({ length: O.concurrency }, (_, n) => client(server, n));
  const keys = accountKeys();
  const injectors = [
    every(O.killEveryMs, async () => {
      kills.push(Date.now());
      note(`SIGKILL server life ${server.life} (pid ${server.child!.pid})`);
      await server.kill9();
      await server.start();
      note(`server life ${server.life} up (pid ${server.child!.pid})`);
    }),
    every(O.lockEveryMs, async () => {
      note(`holding BEGIN EXCLUSIVE for ${O.lockHoldMs / 1000} s`);
      await holdLock(dbPath, O.lockHoldMs);
    }),
    every(O.floodEveryMs, async () => {
      note(`flood of ${O.floodConnections} connections`);
      await flood(server);
      const f = floods.at(-1)!;
      note(`flood: ${f.opened} opened, health during ${f.healthDuring}, after ${f.healthAfter}`);
    }),
    every(O.faultEveryMs, () => {
      const key = keys[Math.floor(Math.random() * keys.length)];
      mock.script.push(key, randomFault());
      faultsQueued++;
      return Promise.resolve();
    }),
    every(5_000, () => sample(server)),
  ];
  let lastReport = Date.now();
  while (Date.now() - t0 < O.durationMs) {
    await sleep(1000);
    // A crash (an exit the soak did not cause) is restarted so the run goes on.
    const last = server.exits.at(-1);
    if (last && !last.expected && last.at > server.startedAt) {
      await server.start();
      note(`restarted after a crash: life ${server.life}`);
    }
    if (Date.now() - lastReport >= 60_000) {
      lastReport = Date.now();
      note(`${counts.sent} sent, ${seen.length} answered, ${counts.noAnswer} without an answer`);
    }
  }
  stopping = true;
  await Promise.all(clients);
  await Promise.all(injectors);
  const stopCode = await server.stop();
  note(`server stopped with SIGTERM: exit ${stopCode}`);

  // ---- the account
  const db = new DatabaseSync(dbPath, { readOnly: true });
  const rows = new Map<string, string>();
  for (
    const r of db.prepare("SELECT proxy_request_id AS id, status FROM requests").all() as {
      id: string;
      status: string;
    }[]
  ) rows.set(r.id, r.status);
  const statusCounts = db.prepare(
    "SELECT status, count(*) AS n FROM requests GROUP BY status ORDER BY n DESC",
  ).all() as { status: string; n: number }[];
  db.close();

  const lost = seen.filter((s) => !rows.has(s.id));
  // Each lost request against the first kill after it began: in flight at that
  // kill (a loss only when it began before the window: a younger one has had no
  // commit yet to carry its pending row), finished within the window before it,
  // or finished earlier (a real loss).
  const killAfter = (t: number) => kills.find((k) => k >= t);
  let lostInFlight = 0;
  let lostYoung = 0;
  let lostInWindow = 0;
  let worstS = 0;
  for (const s of lost) {
    const k = killAfter(s.startedAt);
    if (k !== undefined && s.endedAt >= k) {
      if (k - s.startedAt <= O.windowMs) lostYoung++;
      else lostInFlight++;
    } else if (k !== undefined && k - s.endedAt <= O.windowMs) lostInWindow++;
    if (k !== undefined && s.endedAt < k) worstS = Math.max(worstS, (k - s.endedAt) / 1000);
  }
  const lostBeyond = lost.length - lostInFlight - lostYoung - lostInWindow;
  const pending = statusCounts.find((s) => s.status === "pending")?.n ?? 0;
  const crashes = server.exits.filter((e) => !e.expected).length;
  const lagMax = Math.max(0, ...samples.map((s) => s.lagMaxMs ?? 0));

  const lines: string[] = [];
  lines.push("", "## Soak result", "");
  lines.push(`- requests sent: ${counts.sent}; answered with a request id: ${seen.length}`);
  lines.push(
    `- statuses seen by clients: ${
      [...counts.byStatus].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}: ${v}`).join(", ")
    }; bodies cut: ${seen.filter((s) => !s.whole).length}; no answer at all: ${counts.noAnswer}`,
  );
  lines.push(
    `- rows recorded: ${rows.size} (${statusCounts.map((s) => `${s.status} ${s.n}`).join(", ")})`,
  );
  lines.push(
    `- rows lost: ${lost.length} (in flight at a kill, begun within the window: ${lostYoung}; ` +
      `begun earlier: ${lostInFlight}; finished within the ${
        O.windowMs / 1000
      } s window before a kill: ${lostInWindow}; beyond it: ${lostBeyond}); the oldest finished ${
        worstS.toFixed(1)
      } s before its kill`,
  );
  lines.push(`- rows left pending after the final stop: ${pending}`);
  lines.push(
    `- kills: ${kills.length}; crashes: ${crashes}${
      crashes > 0
        ? ` (${
          server.exits.filter((e) => !e.expected).map((e) =>
            `${since(e.at).trim()} s: code ${e.code}`
          ).join("; ")
        })`
        : ""
    }`,
  );
  lines.push(
    `- DB locks: ${locks.length} (${
      locks.map((l) => `${(l.heldMs / 1000).toFixed(1)} s${l.error ? " failed" : ""}`).join(", ")
    }); floods: ${
      floods.map((f) => `${f.opened} conns, health during ${f.healthDuring} after ${f.healthAfter}`)
        .join("; ") || "none"
    }; upstream faults queued: ${faultsQueued}`,
  );
  lines.push(`- max event-loop lag seen: ${lagMax.toFixed(1)} ms`);
  lines.push("", "RSS by server life (MB, sampled every 5 s):", "");
  lines.push("| life | samples | first after 30 s | min | max | last | last age (s) |");
  lines.push("| --- | --- | --- | --- | --- | --- | --- |");
  for (let life = 1; life <= server.life; life++) {
    const s = samples.filter((x) => x.life === life && x.rssMb !== undefined);
    if (s.length === 0) continue;
    const warm = s.find((x) => x.lifeAgeS >= 30) ?? s[0];
    const rss = s.map((x) => x.rssMb!);
    lines.push(
      `| ${life} | ${s.length} | ${warm.rssMb!.toFixed(1)} | ${Math.min(...rss).toFixed(1)} | ${
        Math.max(...rss).toFixed(1)
      } | ${s.at(-1)!.rssMb!.toFixed(1)} | ${s.at(-1)!.lifeAgeS} |`,
    );
  }
  const missed: string[] = [];
  if (crashes > 0) missed.push(`${crashes} crash(es)`);
  if (lostBeyond > 0) missed.push(`${lostBeyond} row(s) lost beyond the window`);
  if (lostInFlight > 0) {
    missed.push(`${lostInFlight} request(s) in flight for longer than the window left no row`);
  }
  if (pending > 0) missed.push(`${pending} row(s) left pending`);
  if (stopCode !== 0) missed.push(`the final SIGTERM exited ${stopCode}`);
  lines.push(
    "",
    missed.length === 0 ? "verdict: every target met" : `verdict: ${missed.join(", ")}`,
  );
  console.log(lines.join("\n"));
  if (flags.keep) console.log(`kept ${dir}`);
  else await Deno.remove(dir, { recursive: true });
  return missed.length === 0 ? 0 : 1;
}

Deno.exit(await main());
