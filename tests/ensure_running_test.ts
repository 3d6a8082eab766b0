/**
 * Issue #13: `ensure-running` (what cron runs) says "Started" only once the
 * new server answers `/v1/healthz`; a server that dies at startup is
 * reported with the reason from its log, and exits 1 so cron mails it.
 */
import assert from "node:assert/strict";
import { runEggpool } from "./_helpers/cli.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import {
  freePort,
  healthy,
  opsEnv,
  pidFromFile,
  serverPids,
  serverScope,
  writeServerConfig,
} from "./_helpers/ops.ts";

Deno.test("ensure-running reports a server that dies at start with its log tail, and Started only when it answers", async () => {
  await using tmp = await withTmpDir();
  await using _servers = serverScope(tmp.path);
  const port = freePort();
  // A misspelt table passes the fast path (it reads no schema) and stops the server.
  const config = await writeServerConfig(tmp.path, port, { extra: "[sever]\nport = 1\n" });
  const env = opsEnv(tmp.path);
  const run = () =>
    runEggpool(["--config", config, "ensure-running", "--as-root"], { cwd: tmp.path, env });

  const failed = await run();
  assert.equal(failed.code, 1, failed.stdout + failed.stderr);
  assert.equal(failed.stdout, "");
  assert.ok(
    failed.stderr.startsWith(
      "Error: cannot start the server: the server exited with code 1 before it answered " +
        `http://127.0.0.1:${port}/v1/healthz\nLast lines of ${tmp.path}/eggpool.log:\n`,
    ),
    failed.stderr,
  );
  assert.ok(
    failed.stderr.includes("sever (line 19): unknown table [sever]; did you mean [server]?"),
    failed.stderr,
  );
  assert.equal(pidFromFile(tmp.path), undefined, "the dead server's PID file is removed");
  assert.deepEqual(serverPids(tmp.path), []);

  await writeServerConfig(tmp.path, port);
  const started = await run();
  assert.equal(started.code, 0, started.stderr);
  assert.match(started.stdout, /Started eggpool server \(PID \d+\); log: /);
  assert.ok(await healthy(port), "the server answers as soon as ensure-running says Started");
});
