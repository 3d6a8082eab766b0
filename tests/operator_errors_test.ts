/**
 * Operator mistakes end in one line that says what is wrong and what to do,
 * exit 1, and leave nothing behind: no stack trace, no database, no PID file.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { runEggpool } from "./_helpers/cli.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { freePort, opsEnv, writeServerConfig } from "./_helpers/ops.ts";
import { listenProblem } from "../src/cli/commands/_serve_foreground.ts";
import { databaseProblem } from "../src/cli/_store.ts";

const AS_ROOT = "--as-root";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Runs `serve` with `config` and checks the common shape of an operator error. */
async function serveFails(dir: string, config: string): Promise<string> {
  const res = await runEggpool(["--config", config, "serve", AS_ROOT], {
    cwd: dir,
    env: opsEnv(dir),
  });
  assert.equal(res.code, 1, res.stderr);
  const errors = res.stderr.split("\n").filter((l) => l.startsWith("Error: "));
  assert.equal(errors.length, 1, res.stderr);
  assert.doesNotMatch(res.stderr, /^\s+at /m, "no stack trace");
  assert.equal(await exists(`${dir}/run/eggpool.pid`), false, "no PID file left");
  return errors[0];
}

Deno.test("serve: an address in use or not on this machine is one line, before the database is touched", async () => {
  await using tmp = await withTmpDir();
  const port = freePort();
  const config = await writeServerConfig(tmp.path, port);
  {
    using _busy = Deno.listen({ hostname: "127.0.0.1", port });
    assert.equal(
      await serveFails(tmp.path, config),
      `Error: cannot listen on 127.0.0.1:${port}: the address is already in use`,
    );
  }
  // 192.0.2.1 is reserved for documentation: no machine has it. Binding sends nothing.
  const text = await Deno.readTextFile(config);
  await Deno.writeTextFile(config, text.replace('host = "127.0.0.1"', 'host = "192.0.2.1"'));
  assert.equal(
    await serveFails(tmp.path, config),
    `Error: cannot listen on 192.0.2.1:${port}: this machine has no address 192.0.2.1; ` +
      "set [server] host to 127.0.0.1, 0.0.0.0 or one of its own addresses",
  );
  assert.equal(await exists(`${tmp.path}/usage.sqlite3`), false, "the database was not created");
});

Deno.test("serve: a privileged port without the right to bind it names the fix", async () => {
  // Root may bind port 80, so the real refusal is seen only by other users; the
  // mapping itself is checked for everyone.
  assert.equal(
    listenProblem(
      new Deno.errors.PermissionDenied("Permission denied (os error 13)"),
      "0.0.0.0",
      80,
    )
      .message,
    "cannot listen on 0.0.0.0:80: ports below 1024 need root or CAP_NET_BIND_SERVICE; " +
      "set [server] port to 1024 or above (the default is 11300)",
  );
  if (Deno.uid() !== 0) {
    await using tmp = await withTmpDir();
    const config = await writeServerConfig(tmp.path, 80);
    assert.match(await serveFails(tmp.path, config), /ports below 1024 need root/);
  }
});

Deno.test("serve: a database path that cannot be created is one line naming the path", async () => {
  await using tmp = await withTmpDir();
  const config = await writeServerConfig(tmp.path, freePort());
  // A regular file where the database folder should be: fails for root too.
  await Deno.writeTextFile(`${tmp.path}/not-a-folder`, "");
  const dbPath = `${tmp.path}/not-a-folder/usage.sqlite3`;
  const text = await Deno.readTextFile(config);
  await Deno.writeTextFile(config, text.replace(`${tmp.path}/usage.sqlite3`, dbPath));
  const line = await serveFails(tmp.path, config);
  assert.ok(line.startsWith(`Error: cannot create the database folder for ${dbPath} (`), line);
  assert.ok(
    line.endsWith(
      "set [database] path to a writable place, or fix " +
        `${tmp.path}/not-a-folder`,
    ),
    line,
  );
  assert.equal(await Deno.readTextFile(`${tmp.path}/not-a-folder`), "", "the file is untouched");
});

Deno.test("a read-only, full or damaged database gets a sentence that says what to do", async () => {
  await using tmp = await withTmpDir();
  const path = `${tmp.path}/usage.sqlite3`;
  new DatabaseSync(path).exec("CREATE TABLE t (x INTEGER)");
  // A real SQLITE_READONLY from SQLite, whoever runs the test.
  const ro = new DatabaseSync(path, { readOnly: true });
  let readonly: unknown;
  try {
    ro.exec("INSERT INTO t VALUES (1)");
  } catch (error) {
    readonly = error;
  } finally {
    ro.close();
  }
  assert.match(databaseProblem(readonly, path)?.message ?? "", /is read-only for this user/);
  // SQLite's texts for a full disk and a damaged file (node:sqlite reports them this way).
  const full = Object.assign(new Error("database or disk is full"), { code: "ERR_SQLITE_ERROR" });
  assert.equal(
    databaseProblem(full, path)?.message,
    `the disk holding ${path} is full: free some space, then start again`,
  );
  const damaged = Object.assign(new Error("file is not a database"), { code: "ERR_SQLITE_ERROR" });
  assert.match(databaseProblem(damaged, path)?.message ?? "", /is damaged .*restore a backup/);
  // Not about the file: left alone, so a real bug keeps its stack trace.
  assert.equal(databaseProblem(new TypeError("x is undefined"), path), undefined);
});

Deno.test("init-config into a folder that cannot exist says so in one line", async () => {
  await using tmp = await withTmpDir();
  await Deno.writeTextFile(`${tmp.path}/file`, "");
  const res = await runEggpool(["init-config", `${tmp.path}/file/config.toml`], {
    cwd: tmp.path,
    env: opsEnv(tmp.path),
  });
  assert.equal(res.code, 1);
  const errors = res.stderr.split("\n").filter((l) => l.startsWith("Error: "));
  assert.equal(errors.length, 1, res.stderr);
  assert.ok(
    errors[0].startsWith(`Error: cannot create the folder ${tmp.path}/file for the config: `),
    errors[0],
  );
  assert.doesNotMatch(res.stderr, /^\s+at /m, "no stack trace");
});
