/**
 * Measures the stats store's disk wear per `[metrics] write_mode` (issue #12
 * item 5): runs a real `eggpool serve` under `strace -f -c` for fsync and
 * fdatasync, sends non-streamed requests at a fixed rate to a loopback mock
 * upstream, and reads the server's `write_bytes` from /proc/<pid>/io.
 *
 *   deno run --allow-all scripts/stats_wear.ts [mode ...] [--rate=100] [--seconds=30]
 *
 * Prints one line per mode. Needs strace; Linux only.
 */
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../deno.json", import.meta.url).pathname;
const KEY = "ep_wear_local_key_0123456789";

function flag(name: string, fallback: number): number {
  const arg = Deno.args.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? fallback : Number(arg.split("=")[1]);
}

function childPid(parent: number): number | undefined {
  for (const task of Deno.readDirSync(`/proc/${parent}/task`)) {
    const kids = Deno.readTextFileSync(`/proc/${parent}/task/${task.name}/children`).trim();
    if (kids !== "") return Number(kids.split(" ")[0]);
  }
  return undefined;
}

function writeBytes(pid: number): number {
  const io = Deno.readTextFileSync(`/proc/${pid}/io`);
  return Number(/^write_bytes: (\d+)$/m.exec(io)![1]);
}

async function measure(mode: string, rate: number, seconds: number) {
  const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    if (req.method === "GET") return Response.json({ object: "list", data: [{ id: "m1" }] });
    await req.body?.cancel();
    return Response.json({
      id: "c",
      object: "chat.completion",
      model: "m1",
      choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 30, completion_tokens: 5 },
    });
  });
  const dir = await Deno.makeTempDir({ prefix: "eggpool-wear-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const config = `${dir}/config.toml`;
  await Deno.writeTextFile(
    config,
    [
      "[server]",
      `port = ${port}`,
      `api_key = "${KEY}"`,
      "[database]",
      `path = "${dir}/usage.sqlite3"`,
      "[metrics]",
      `write_mode = "${mode}"`,
      "[providers.up]",
      'id = "up"',
      `base_url = "http://127.0.0.1:${upstream.addr.port}/v1"`,
      'protocols = ["openai"]',
      "[[providers.up.accounts]]",
      'name = "up-1"',
      'api_key = "sk-up-1"',
    ].join("\n") + "\n",
  );
  const trace = `${dir}/strace.txt`;
  const child = new Deno.Command("strace", {
    args: [
      "-f",
      "-e",
      "trace=fsync,fdatasync",
      "-c",
      "-o",
      trace,
      Deno.execPath(),
      "run",
      "--allow-all",
      `--config=${DENO_JSON}`,
      MAIN,
      "serve",
      "--as-root",
      "--config",
      config,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    try {
      const r = await fetch(`${origin}/v1/readyz`);
      await r.body?.cancel();
      if (r.ok) break;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = childPid(child.pid)!;
  const before = writeBytes(pid);
  const total = rate * seconds;
  let sent = 0;
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  while (sent < total) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    for (; sent < Math.min(due, total); sent++) {
      pending.push(
        fetch(`${origin}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
          body: JSON.stringify({ model: "m1", messages: [{ role: "user", content: "x" }] }),
        }).then((r) => r.body?.cancel()),
      );
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await Promise.all(pending);
  await new Promise((r) => setTimeout(r, 2_000));
  const after = writeBytes(pid);
  const elapsedS = (performance.now() - t0) / 1000;
  Deno.kill(pid, "SIGTERM");
  await child.status;
  await upstream.shutdown();
  const summary = await Deno.readTextFile(trace);
  let syncs = 0;
  for (
    const m of summary.matchAll(
      /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(fsync|fdatasync)$/gm,
    )
  ) {
    syncs += Number(m[1]);
  }
  await Deno.remove(dir, { recursive: true });
  console.log(
    `${mode}: ${total} requests in ${
      elapsedS.toFixed(1)
    } s; ${syncs} fsync+fdatasync in the whole run ` +
      `(${(syncs / elapsedS).toFixed(2)}/s); ${((after - before) / 1024).toFixed(0)} KiB written ` +
      `(${((after - before) / total).toFixed(0)} B/request)`,
  );
}

const modes = Deno.args.filter((a) => !a.startsWith("--"));
for (const mode of modes.length ? modes : ["immediate", "balanced", "low_wear"]) {
  await measure(mode, flag("rate", 100), flag("seconds", 30));
}
