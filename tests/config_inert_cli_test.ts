/**
 * Issue #12 item 8 through the real CLI: a config migrated from the Python
 * EggPool that sets keys this version does not act on still loads, and both
 * `check-config` and `serve` name each such key with its line. `[server]
 * log_level` is honoured by the running server's log.
 */

import assert from "node:assert/strict";
import { denoChildEnv, runEggpool } from "./_helpers/cli.ts";
import { freePort, healthy, OPS_KEY, opsEnv, serverTomlLines, waitFor } from "./_helpers/ops.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const PROVIDER = [
  "[models]",
  "startup_refresh = false",
  "[providers.p]",
  'id = "p"',
  'base_url = "http://127.0.0.1:9/v1"',
  "[[providers.p.static_models]]",
  'id = "m"',
  "[[providers.p.accounts]]",
  'name = "a1"',
  'api_key = "sk-test-account-key-1"',
];

/** Inert settings a Python config may carry, and a supported [readiness_probe] (silent). */
const INERT = [
  "[routing.trace]",
  'mode = "sampled"',
  "sample_rate = 0.1",
  "[maintenance]",
  "max_rows_per_batch = 800",
  "p0_max_rows_per_batch = 2000",
  "[update_checker]",
  "enabled = true",
  "[readiness_probe]",
  "enabled = false",
  "interval_s = 5",
];

/** The warning bodies, after `<key> (line N): `. */
const EXPECTED = [
  [
    "routing.trace",
    "the table has no effect in this version (keys set: mode, sample_rate): traces are not " +
    "sampled or queued separately: every request's routing decisions are always recorded with " +
    "it (Traces page, /api/stats/recent/{id})",
  ],
  [
    "maintenance.p0_max_rows_per_batch",
    "has no effect in this version: cleanup is bounded by max_rows_per_batch, " +
    "max_batches_per_tick and max_tick_duration_ms only",
  ],
  [
    "update_checker",
    "the table has no effect in this version (keys set: enabled): the server does not look " +
    "for releases; run `eggpool update`",
  ],
];

async function writeConfig(dir: string, port: number, server: string[]): Promise<string> {
  const lines = [...serverTomlLines(dir, port, server), ...PROVIDER, ...INERT];
  const path = `${dir}/config.toml`;
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}

/** `<key> (line N)` for each expected warning, N read from the file itself. */
async function expectedLines(path: string): Promise<string[]> {
  const rows = (await Deno.readTextFile(path)).split("\n");
  const lineOf = (key: string) => {
    const table = key.split(".");
    const header = rows.findIndex((r) => r === `[${key}]`);
    if (header >= 0) return header + 1;
    const leaf = table.at(-1)!;
    return rows.findIndex((r) => r.startsWith(`${leaf} =`)) + 1;
  };
  return EXPECTED.map(([key, body]) => `${key} (line ${lineOf(key)}): ${body}`);
}

Deno.test("check-config names every inert key with its line and still succeeds", async () => {
  await using tmp = await withTmpDir();
  const path = await writeConfig(tmp.path, freePort(), []);
  const r = await runEggpool(["--config", path, "check-config"], {
    cwd: tmp.path,
    env: opsEnv(tmp.path),
  });
  assert.equal(r.code, 0, r.stderr);
  const warnings = r.stdout.split("\n").filter((l) => l.startsWith("  warning: "));
  assert.deepEqual(warnings, (await expectedLines(path)).map((l) => `  warning: ${l}`));
  assert.match(r.stdout, /^ {2}3 warnings$/m);
  assert.doesNotMatch(r.stdout, /readiness_probe/, "a supported table is silent");
});

/** Runs `serve` in the foreground until healthy, then stops it; returns its stderr. */
async function serveOnce(
  dir: string,
  server: string[],
  touch: (port: number) => Promise<void>,
): Promise<{ stderr: string; path: string }> {
  const port = freePort();
  const path = await writeConfig(dir, port, server);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `--config=${new URL("../deno.json", import.meta.url).pathname}`,
      new URL("../main.ts", import.meta.url).pathname,
      "--config",
      path,
      "serve",
      "--as-root",
    ],
    cwd: dir,
    env: {
      ...opsEnv(dir),
      ...denoChildEnv(),
      NO_COLOR: "1",
    },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  try {
    assert.ok(await waitFor(() => healthy(port), 30_000), "the server came up");
    await touch(port);
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* exited already */ }
    await child.status;
  }
  return { stderr: await stderr, path };
}

async function getModels(port: number): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/models`, {
    headers: { authorization: `Bearer ${OPS_KEY}` },
  });
  const body = await res.json();
  assert.equal(res.status, 200);
  assert.deepEqual(body.data.map((m: { id: string }) => m.id), ["m/p"]);
}

Deno.test("serve prints the same warnings at start; log_level INFO shows access lines", async () => {
  await using tmp = await withTmpDir();
  const { stderr, path } = await serveOnce(tmp.path, ["access_log = true"], getModels);
  const lines = stderr.split("\n");
  const warnings = lines.filter((l) => l.startsWith("warning: "));
  assert.deepEqual(warnings, (await expectedLines(path)).map((l) => `warning: ${l}`));
  assert.ok(lines.some((l) => /\[eggpool\] Listening on http:\/\/127\.0\.0\.1:/.test(l)), stderr);
  assert.ok(lines.some((l) => /\[eggpool\] Ready: 1 provider, 1 account, 1 model/.test(l)));
  assert.ok(lines.some((l) => /\[eggpool\] access \S+ "GET \/v1\/models" 200 /.test(l)), stderr);
  assert.ok(lines.some((l) => /\[eggpool\] Stopped$/.test(l)));
});

Deno.test("log_level WARNING drops the server's info lines and keeps its warnings", async () => {
  await using tmp = await withTmpDir();
  const { stderr } = await serveOnce(
    tmp.path,
    ["access_log = true", 'log_level = "warning"'],
    getModels,
  );
  const server = stderr.split("\n").filter((l) => l.includes("[eggpool] "));
  // The server's own warning that its model list was never fetched stays.
  assert.ok(
    server.some((l) => l.includes("[eggpool] warning: no model list of p was ever fetched")),
    stderr,
  );
  for (const info of ["Listening on", "Ready:", "access ", "Shutting down", "Stopped"]) {
    assert.ok(!server.some((l) => l.includes(`[eggpool] ${info}`)), `${info} hidden:\n${stderr}`);
  }
  // Config warnings are not server log lines: they are printed whatever the level.
  assert.equal(stderr.split("\n").filter((l) => l.startsWith("warning: ")).length, 3);
});

Deno.test("log_level CRITICAL silences the server log", async () => {
  await using tmp = await withTmpDir();
  const { stderr } = await serveOnce(
    tmp.path,
    ["access_log = true", 'log_level = "CRITICAL"'],
    getModels,
  );
  assert.deepEqual(stderr.split("\n").filter((l) => l.includes("[eggpool] ")), [], stderr);
});
