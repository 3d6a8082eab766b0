import assert from "node:assert/strict";
import { runEggpool } from "./_helpers/cli.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import {
  freePort,
  OPS_KEY,
  opsEnv,
  pidFromFile,
  serverScope,
  writeServerConfig,
} from "./_helpers/ops.ts";

Deno.test("runtime-status summarises a live server, --json prints the raw object, and the route needs the key", async () => {
  await using tmp = await withTmpDir();
  await using _servers = serverScope(tmp.path);
  const port = freePort();
  const config = await writeServerConfig(tmp.path, port, { extra: "[dashboard]\npublic = true" });
  const env = opsEnv(tmp.path);
  const run = (...args: string[]) =>
    runEggpool(["--config", config, ...args], { cwd: tmp.path, env });
  const start = await run("serve", "--daemon", "--as-root");
  assert.equal(start.code, 0, start.stderr);
  const pid = pidFromFile(tmp.path)!;

  const human = await run("runtime-status");
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^=== EggPool Runtime Status ===\n/);
  assert.match(human.stdout, /Status: +healthy/);
  assert.match(human.stdout, new RegExp(`PID: +${pid}\\n`));
  assert.match(
    human.stdout,
    new RegExp(`Deno: +${Deno.version.deno.replaceAll(".", "\\.")} \\(V8 `),
  );
  assert.match(human.stdout, /RSS: +\d+(\.\d)? (KB|MB)/);
  assert.match(human.stdout, /stale_finalizer: idle \(not run yet, every 1m 0s\)/);
  assert.match(human.stdout, /retention_cleanup: idle \(not run yet, every 1d 0h\)/);
  assert.match(human.stdout, new RegExp(`DB Path: +${tmp.path}/usage\\.sqlite3`));
  assert.match(human.stdout, /In-flight Requests: 0/);
  assert.match(human.stdout, /EggPool Processes: +1 \(expected: 1\)\n/);
  assert.ok(!human.stdout.includes("WARNING"));
  assert.match(human.stdout, /Outbound requests: +0\n/);
  assert.match(human.stdout, /Provider clients: +1\n +p: 1 \(open 0\/32, waiting 0, in flight 0\)/);

  const json = await run("runtime-status", "--json");
  assert.equal(json.code, 0, json.stderr);
  const snap = JSON.parse(json.stdout);
  assert.equal(snap.status, "ok");
  assert.deepEqual(snap.problems, []);
  assert.equal(snap.pid, pid);
  assert.equal(snap.versions.deno, Deno.version.deno);
  assert.equal(typeof snap.versions.eggpool, "string");
  assert.ok(snap.memory.rssBytes > 0 && snap.memory.heapUsedBytes > 0);
  assert.equal(typeof snap.eventLoop.meanMs, "number");
  assert.deepEqual(snap.backgroundTasks.map((t: { name: string }) => t.name), [
    "stale_finalizer",
    "retention_cleanup",
    "database_file_check",
    "stats_writer",
  ]);
  assert.ok(snap.database.dbBytes > 0, "the migrated database has a size");
  assert.equal(typeof snap.database.walBytes, "number");
  assert.equal(snap.requests.inFlight, 0);
  assert.equal(snap.requests.pendingWrites, 0);
  assert.deepEqual(snap.processes, { observed: 1, expected: 1, others: [] });
  assert.deepEqual(snap.outbound, [{
    providerId: "p",
    clients: 1,
    proxiedAccounts: 0,
    accounts: 1,
    open: 0,
    max: 32,
    waiting: 0,
    opened: 0,
    timeouts: 0,
    inFlight: 0,
  }]);

  // Always gated, even with a public dashboard.
  const url = `http://127.0.0.1:${port}/api/stats/runtime`;
  const anonymous = await fetch(url);
  assert.equal(anonymous.status, 401);
  await anonymous.body?.cancel();
  const wrong = await fetch(url, { headers: { authorization: "Bearer ep_wrong_key_0123456789" } });
  assert.equal(wrong.status, 401);
  await wrong.body?.cancel();
  const keyed = await fetch(url, { headers: { "x-api-key": OPS_KEY } });
  assert.equal(keyed.status, 200);
  assert.equal((await keyed.json()).pid, pid);

  const otherKey = await Deno.readTextFile(config);
  await Deno.writeTextFile(config, otherKey.replace(OPS_KEY, "ep_another_key_0123456789"));
  const rejected = await run("runtime-status");
  assert.equal(rejected.code, 1);
  assert.match(rejected.stderr, /Server returned HTTP 401/);
  const rejectedJson = await run("runtime-status", "--json");
  assert.equal(rejectedJson.code, 1);
  assert.deepEqual(
    { ...JSON.parse(rejectedJson.stdout), message: undefined },
    { status: "error", url, httpStatus: 401, message: undefined },
  );
  await Deno.writeTextFile(config, otherKey);

  assert.equal((await run("stop")).code, 0);
  const downHuman = await run("runtime-status");
  assert.equal(downHuman.code, 1);
  assert.equal(downHuman.stdout, "");
  assert.match(
    downHuman.stderr,
    new RegExp(`Cannot reach server at http://127\\.0\\.0\\.1:${port}/api/stats/runtime`),
  );
  // --json answers in JSON whatever happens, so scripts can always parse it.
  const down = await run("runtime-status", "--json");
  assert.equal(down.code, 1);
  assert.equal(down.stderr, "");
  const report = JSON.parse(down.stdout);
  assert.equal(report.status, "not_running");
  assert.equal(report.url, url);
  assert.match(report.message, /Cannot reach server/);

  await Deno.writeTextFile(config, "[server\n");
  const broken = await run("runtime-status", "--json");
  assert.equal(broken.code, 1);
  assert.equal(JSON.parse(broken.stdout).status, "config_error");
});

Deno.test("runtime-status exits 2 when the server is degraded", async () => {
  await using tmp = await withTmpDir();
  await using _servers = serverScope(tmp.path);
  const port = freePort();
  // The only account is disabled: the server runs but is not ready to route.
  const config = await writeServerConfig(tmp.path, port, { accountEnabled: false });
  const env = opsEnv(tmp.path);
  const run = (...args: string[]) =>
    runEggpool(["--config", config, ...args], { cwd: tmp.path, env });
  const start = await run("serve", "--daemon", "--as-root");
  assert.equal(start.code, 0, start.stderr);

  const human = await run("runtime-status");
  assert.equal(human.code, 2, human.stderr);
  assert.match(human.stdout, /Status: +DEGRADED\n +- not ready: no enabled accounts/);
  assert.equal(human.stderr, "");
  const json = await run("runtime-status", "--json");
  assert.equal(json.code, 2);
  const snap = JSON.parse(json.stdout);
  assert.equal(snap.status, "degraded");
  assert.deepEqual(snap.problems, ["not ready: no enabled accounts"]);
  assert.equal((await run("stop")).code, 0);
});
