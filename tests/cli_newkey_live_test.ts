/**
 * `newkey` and `set` against a running server started by the CLI: the change
 * reaches the server without a manual restart.
 */
import assert from "node:assert/strict";
import { runEggpool } from "./_helpers/cli.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { freePort, healthy, opsEnv, pidFromFile, serverScope } from "./_helpers/ops.ts";

const OLD_KEY = "ep_live_old_key_0123456789";

async function modelsStatus(port: number, key: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/models`, {
    headers: { authorization: `Bearer ${key}` },
  });
  await res.body?.cancel();
  return res.status;
}

Deno.test("newkey with a running server: the old key is refused and the new one accepted, without a manual restart", async () => {
  await using tmp = await withTmpDir();
  await using _servers = serverScope(tmp.path);
  const port = freePort();
  const config = `${tmp.path}/config.toml`;
  await Deno.writeTextFile(
    config,
    [
      "# Served by the test.",
      "[server]",
      'host = "127.0.0.1"',
      `port = ${port}`,
      'api_key_env = "SERVER_API_KEY"',
      "[database]",
      `path = "${tmp.path}/usage.sqlite3"`,
      "[models]",
      "startup_refresh = false",
      "",
    ].join("\n"),
  );
  await Deno.writeTextFile(`${tmp.path}/.env`, `SERVER_API_KEY=${OLD_KEY}\n`, { mode: 0o600 });
  const env = opsEnv(tmp.path);
  const run = (...args: string[]) =>
    runEggpool(["--config", config, ...args], { cwd: tmp.path, env });

  const start = await run("serve", "--daemon", "--as-root");
  assert.equal(start.code, 0, start.stderr);
  const firstPid = pidFromFile(tmp.path);
  assert.equal(await modelsStatus(port, OLD_KEY), 200);

  const rotated = await run("newkey", "--as-root");
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.match(rotated.stdout, /^Old key \(expired, redacted\): ep_l\.\.\.6789$/m);
  const newKey = /^New key \(use this\): (\S+)$/m.exec(rotated.stdout)?.[1];
  assert.ok(newKey !== undefined && newKey.startsWith("ep_") && newKey !== OLD_KEY);
  assert.match(rotated.stdout, /Server restarted\./);
  assert.ok(await healthy(port));
  assert.notEqual(pidFromFile(tmp.path), firstPid, "a new server process serves");
  assert.equal(await modelsStatus(port, OLD_KEY), 401, "the old key is refused");
  assert.equal(await modelsStatus(port, newKey), 200, "the new key is accepted");
  assert.equal(
    await Deno.readTextFile(`${tmp.path}/.env`),
    `SERVER_API_KEY=${newKey}\n`,
    "the key was rotated where it lived",
  );
  assert.equal((await Deno.stat(`${tmp.path}/.env`)).mode! & 0o777, 0o600);
  const got = await run("getkey");
  assert.equal(got.stdout, newKey);

  const show = await run("newkey", "--show-old", "--no-restart");
  assert.match(show.stdout, new RegExp(`^Old key \\(expired\\): ${newKey}$`, "m"));
  assert.match(show.stdout, /run 'eggpool rehash' to apply the change/);
  assert.equal(await modelsStatus(port, newKey), 200, "--no-restart left the server alone");

  const stop = await run("stop");
  assert.equal(stop.code, 0, stop.stderr);
});
