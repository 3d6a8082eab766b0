import assert from "node:assert/strict";
import { runEggpool } from "./_helpers/cli.ts";
import { inContainer, processPathEnv } from "../src/ops/env.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import {
  freePort,
  healthy,
  isAlive,
  opsEnv,
  pidFromFile,
  serverPids,
  serverScope,
  waitFor,
  writeServerConfig,
} from "./_helpers/ops.ts";

/** Every test passes --as-root: harmless for a normal user, needed when CI runs as root. */
const AS_ROOT = "--as-root";

Deno.test("serve --daemon starts a healthy server, refuses a second one by PID file and by port, and stop ends it", async () => {
  await using tmp = await withTmpDir();
  await using _servers = serverScope(tmp.path);
  const port = freePort();
  const config = await writeServerConfig(tmp.path, port);
  const env = opsEnv(tmp.path);
  const run = (...args: string[]) =>
    runEggpool(["--config", config, ...args], { cwd: tmp.path, env });

  const start = await run("serve", "--daemon", AS_ROOT);
  assert.equal(start.code, 0, start.stderr);
  const pid = pidFromFile(tmp.path)!;
  assert.match(start.stdout, new RegExp(`Started eggpool server \\(PID ${pid}\\)`));
  assert.match(start.stdout, new RegExp(`PID file: ${tmp.path}/run/eggpool.pid`));
  assert.match(start.stdout, new RegExp(`Log file: ${tmp.path}/eggpool.log`));
  assert.ok(await healthy(port), "the daemon answers /v1/healthz when serve --daemon returns");
  assert.deepEqual(serverPids(tmp.path), [pid]);
  assert.match(
    await Deno.readTextFile(`${tmp.path}/eggpool.log`),
    /Listening on http:\/\/127\.0\.0\.1/,
  );

  const check = await run("croncheck");
  assert.equal(check.code, 0);
  assert.equal(check.stdout, `Server is running (PID ${pid}).\n`);

  const byPid = await run("serve", AS_ROOT);
  assert.equal(byPid.code, 1);
  assert.match(byPid.stderr, new RegExp(`server is already running \\(PID ${pid}`));
  const daemonAgain = await run("serve", "--daemon", AS_ROOT);
  assert.equal(daemonAgain.code, 1);
  assert.match(daemonAgain.stderr, /server is already running/);

  // Without the PID file only the port gives the first server away.
  await Deno.remove(`${tmp.path}/run/eggpool.pid`);
  const byPort = await run("serve", AS_ROOT);
  assert.equal(byPort.code, 1);
  assert.match(
    byPort.stderr,
    new RegExp(`another process is already serving 127\\.0\\.0\\.1:${port}`),
  );
  const otherPidFile = await runEggpool(["--config", config, "serve", "--daemon", AS_ROOT], {
    cwd: tmp.path,
    env: { ...env, EGGPOOL_PID_FILE: `${tmp.path}/other.pid` },
  });
  assert.equal(otherPidFile.code, 1);
  assert.match(otherPidFile.stderr, /another process is already serving/);
  assert.deepEqual(serverPids(tmp.path), [pid], "no second server was left behind");

  await Deno.writeTextFile(`${tmp.path}/run/eggpool.pid`, `${pid}\n`);
  const stop = await run("stop");
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(stop.stdout, `Server stopped (PID ${pid}).\n`);
  assert.ok(!isAlive(pid));
  assert.equal(pidFromFile(tmp.path), undefined, "the PID file is gone");
  assert.match(await Deno.readTextFile(`${tmp.path}/eggpool.log`), /Stopped/);

  const again = await run("stop");
  assert.equal(again.code, 0);
  assert.equal(again.stdout, "Server is not running (no PID file found).\n");
  const down = await run("croncheck");
  assert.equal(down.code, 1);
  assert.equal(down.stdout, "Server is not running.\n");
});

Deno.test("a stale PID file is cleared by croncheck's callers: stop, serve --daemon and ensure-running", async () => {
  await using tmp = await withTmpDir();
  await using _servers = serverScope(tmp.path);
  const port = freePort();
  const config = await writeServerConfig(tmp.path, port);
  const env = opsEnv(tmp.path);
  const run = (...args: string[]) =>
    runEggpool(["--config", config, ...args], { cwd: tmp.path, env });
  const dead = await deadPid();
  await Deno.mkdir(`${tmp.path}/run`);
  const pidFile = `${tmp.path}/run/eggpool.pid`;

  await Deno.writeTextFile(pidFile, `${dead}\n`);
  const check = await run("croncheck", "--quiet");
  assert.equal(check.code, 1);
  assert.equal(check.stdout, "");
  const stop = await run("stop");
  assert.equal(stop.code, 0);
  assert.match(stop.stdout, /Server is not running \(stale PID file .* removed\)/);
  assert.equal(pidFromFile(tmp.path), undefined);

  await Deno.writeTextFile(pidFile, "not a pid\n");
  const start = await run("serve", "--daemon", AS_ROOT);
  assert.equal(start.code, 0, start.stderr);
  const pid = pidFromFile(tmp.path)!;
  assert.ok(isAlive(pid) && pid !== dead);
  assert.ok(await healthy(port));
  const stopped = await run("stop");
  assert.equal(stopped.code, 0, stopped.stderr);

  await Deno.writeTextFile(pidFile, `${dead}\n`);
  const ensure = await run("ensure-running", AS_ROOT);
  assert.equal(ensure.code, 0, ensure.stderr);
  assert.match(ensure.stdout, /Started eggpool server \(PID \d+\)/);
  assert.ok(await waitFor(() => healthy(port)), "ensure-running's server becomes healthy");
  assert.notEqual(pidFromFile(tmp.path), dead);
});

Deno.test("restart replaces the server; rehash with a broken config keeps the old one running", async () => {
  await using tmp = await withTmpDir();
  await using _servers = serverScope(tmp.path);
  const port = freePort();
  const config = await writeServerConfig(tmp.path, port);
  const env = opsEnv(tmp.path);
  const run = (...args: string[]) =>
    runEggpool(["--config", config, ...args], { cwd: tmp.path, env });

  const restartCold = await run("restart", "--quiet", AS_ROOT);
  assert.equal(restartCold.code, 0, restartCold.stderr);
  assert.match(restartCold.stdout, /Log file: \/dev\/null\n/);
  assert.match(
    restartCold.stdout,
    /Server is not running \(no PID file found\)\.\nStarting server\.\.\./,
  );
  const first = pidFromFile(tmp.path)!;

  const restart = await run("restart", "--log-file", "own.log", AS_ROOT);
  assert.equal(restart.code, 0, restart.stderr);
  assert.match(restart.stdout, new RegExp(`Log file: ${tmp.path}/own\\.log\\n`));
  assert.match(await Deno.readTextFile(`${tmp.path}/own.log`), /Listening on/);
  assert.match(restart.stdout, new RegExp(`Server stopped \\(PID ${first}\\)`));
  const second = pidFromFile(tmp.path)!;
  assert.notEqual(second, first);
  assert.ok(!isAlive(first));
  assert.ok(await healthy(port));

  const good = await Deno.readTextFile(config);
  await Deno.writeTextFile(
    config,
    good.replace("startup_refresh = false", 'startup_refresh = "sometimes"'),
  );
  const broken = await run("rehash", AS_ROOT);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /models\.startup_refresh/);
  assert.match(broken.stderr, /Live configuration is unchanged/);
  assert.equal(broken.stdout, "");
  assert.equal(pidFromFile(tmp.path), second, "the PID file still names the old server");
  assert.ok(isAlive(second) && await healthy(port), "the old server still answers");

  await Deno.writeTextFile(config, good);
  const rehash = await run("rehash", AS_ROOT);
  assert.equal(rehash.code, 0, rehash.stderr);
  assert.match(rehash.stdout, /Validated config from .*config\.toml \(digest=[0-9a-f]{12}/);
  const third = pidFromFile(tmp.path)!;
  assert.notEqual(third, second);
  assert.ok(await healthy(port));
  assert.deepEqual(serverPids(tmp.path), [third]);
});

Deno.test("ensure-running racing with itself 10 times starts exactly one server", async () => {
  await using tmp = await withTmpDir();
  await using _servers = serverScope(tmp.path);
  const port = freePort();
  const config = await writeServerConfig(tmp.path, port);
  const env = opsEnv(tmp.path);
  const runs = await Promise.all(
    Array.from(
      { length: 10 },
      () => runEggpool(["--config", config, "ensure-running", AS_ROOT], { cwd: tmp.path, env }),
    ),
  );
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  assert.equal(runs.filter((r) => /Started eggpool server/.test(r.stdout)).length, 1);
  assert.ok(await waitFor(() => healthy(port)), "the one server becomes healthy");
  // Give a wrongly started second server time to show up before counting.
  await new Promise((r) => setTimeout(r, 500));
  const pids = serverPids(tmp.path);
  assert.equal(pids.length, 1, `exactly one server, found ${pids.join(", ")}`);
  assert.equal(pidFromFile(tmp.path), pids[0]);

  const noop = await runEggpool(["--config", config, "ensure-running", AS_ROOT], {
    cwd: tmp.path,
    env,
  });
  assert.equal(noop.code, 0);
  assert.equal(noop.stdout + noop.stderr, "", "a running server makes ensure-running silent");
});

Deno.test("serve refuses root without --as-root, and ensure-running reports a bad log file", async () => {
  await using tmp = await withTmpDir();
  await using _servers = serverScope(tmp.path);
  const config = await writeServerConfig(tmp.path, freePort());
  const env = opsEnv(tmp.path, { EGGPOOL_LOG_FILE: `${tmp.path}/config.toml/not-a-dir/x.log` });
  if (Deno.uid() === 0) {
    // A broken config makes serve stop right after the root check, either way.
    const broken = `${tmp.path}/broken.toml`;
    await Deno.writeTextFile(broken, '[server]\nport = "eleven"\n');
    const res = await runEggpool(["--config", broken, "serve"], { cwd: tmp.path, env });
    assert.equal(res.code, 1);
    if (inContainer(processPathEnv())) {
      // 09-decisions: inside a container root is allowed with a one-line notice.
      assert.match(res.stderr, /^Running as root inside a container/m);
      assert.doesNotMatch(res.stderr, /refusing to run as root/);
      assert.match(res.stderr, /port/);
    } else {
      assert.match(res.stderr, /refusing to run as root/);
    }
  }
  const bad = await runEggpool(["--config", config, "ensure-running", AS_ROOT], {
    cwd: tmp.path,
    env,
  });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Error: cannot start the server/);
  assert.deepEqual(serverPids(tmp.path), []);
});

/** A PID that belonged to a process that has exited. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true", { stdout: "null", stderr: "null" }).spawn();
  await child.status;
  return child.pid;
}

Deno.test("serve --daemon reports a child that dies before it is healthy, with the log's last lines", async () => {
  await using tmp = await withTmpDir();
  await using _servers = serverScope(tmp.path);
  const port = freePort();
  // Something else holds the port but is not EggPool: /v1/healthz answers 404.
  await using _squatter = Deno.serve(
    { hostname: "127.0.0.1", port, onListen() {} },
    () => new Response("not here", { status: 404 }),
  );
  const config = await writeServerConfig(tmp.path, port);
  const env = opsEnv(tmp.path);
  const res = await runEggpool(["--config", config, "serve", "--daemon", AS_ROOT], {
    cwd: tmp.path,
    env,
  });
  assert.equal(res.code, 1);
  assert.match(res.stderr, /the server exited with code 1 before it answered/);
  assert.match(res.stderr, new RegExp(`Last lines of ${tmp.path}/eggpool\\.log:`));
  assert.match(res.stderr, /address is already in use/);
  assert.equal(pidFromFile(tmp.path), undefined, "the dead child's PID file is removed");
});
