import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { denoChildEnv, isolatedEnv, runEggpool } from "./_helpers/cli.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

Deno.test("eggpool with no arguments prints help ending with the resolved config path", async () => {
  await using tmp = await withTmpDir();
  const env = isolatedEnv(tmp.path);
  const res = await runEggpool([], { cwd: tmp.path, env });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /Usage: eggpool/);
  for (const cmd of ["version", "check-config", "init-config", "migrate", "db"]) {
    assert.match(res.stdout, new RegExp(`\\n  ${cmd}\\b`), `help lists ${cmd}`);
  }
  assert.match(res.stdout, new RegExp(`Config file: ${tmp.path}/config.toml\\n$`));
  const help = await runEggpool(["help"], { cwd: tmp.path, env });
  assert.equal(help.code, 0);
  assert.equal(help.stdout, res.stdout);
});

Deno.test("eggpool help COMMAND and --help describe one command", async () => {
  await using tmp = await withTmpDir();
  const env = isolatedEnv(tmp.path);
  const res = await runEggpool(["help", "init-config"], { cwd: tmp.path, env });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /Usage: eggpool init-config \[options\] \[target\]/);
  assert.match(res.stdout, /--force/);
  const flag = await runEggpool(["init-config", "--help"], { cwd: tmp.path, env });
  assert.equal(flag.stdout, res.stdout);
});

Deno.test("eggpool version prints the version", async () => {
  await using tmp = await withTmpDir();
  const res = await runEggpool(["version"], { cwd: tmp.path, env: isolatedEnv(tmp.path) });
  assert.equal(res.code, 0);
  assert.match(res.stdout, /^eggpool \d+\.\d+\.\d+ \(deno \d+\.\d+\.\d+\)\n$/);
});

Deno.test("unknown commands and bad flags exit 2 with a hint", async () => {
  await using tmp = await withTmpDir();
  const env = isolatedEnv(tmp.path);
  const unknown = await runEggpool(["chek-config"], { cwd: tmp.path, env });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'chek-config'/);
  assert.match(unknown.stderr, /Did you mean check-config\?/);
  assert.match(unknown.stderr, /eggpool help/);
  const flag = await runEggpool(["version", "--verbose-please"], { cwd: tmp.path, env });
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /unknown option '--verbose-please'/);
  const extra = await runEggpool(["migrate", "now"], { cwd: tmp.path, env });
  assert.equal(extra.code, 2);
  assert.match(extra.stderr, /too many arguments/);
  assert.equal(unknown.stdout + flag.stdout + extra.stdout, "");
  // --help after a command that does not exist must not print the main help as if it did.
  for (const args of [["chek-config", "--help"], ["-c", "x.toml", "serv", "-h"]]) {
    const help = await runEggpool(args, { cwd: tmp.path, env });
    assert.equal(help.code, 2, args.join(" "));
    assert.equal(help.stdout, "");
    assert.match(help.stderr, /unknown command '(chek-config|serv)'/);
    assert.match(help.stderr, /Did you mean (check-config|serve)\?/);
  }
  const realHelp = await runEggpool(["serve", "--help"], { cwd: tmp.path, env });
  assert.equal(realHelp.code, 0);
  assert.match(realHelp.stdout, /^Usage: eggpool serve/);
});

Deno.test("help piped into a reader that leaves early ends quietly", async () => {
  await using tmp = await withTmpDir();
  const main = new URL("../main.ts", import.meta.url).pathname;
  const deno = `"${Deno.execPath()}" run -A --config="${
    new URL("../deno.json", import.meta.url).pathname
  }"`;
  const out = await new Deno.Command("bash", {
    // `true` exits before Deno has started, so every write meets a closed pipe.
    args: ["-c", `${deno} "${main}" help | true; echo "exit \${PIPESTATUS[0]}"`],
    cwd: tmp.path,
    env: {
      ...isolatedEnv(tmp.path),
      ...denoChildEnv(),
      NO_COLOR: "1",
    },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(out.stdout), "exit 0\n");
  assert.equal(new TextDecoder().decode(out.stderr), "");
});

async function writeConfig(dir: string, dbPath: string): Promise<string> {
  const path = `${dir}/config.toml`;
  await Deno.writeTextFile(path, `[database]\npath = "${dbPath}"\n`);
  return path;
}

Deno.test("eggpool migrate creates the schema, then is a no-op", async () => {
  await using tmp = await withTmpDir();
  const env = isolatedEnv(tmp.path);
  const config = await writeConfig(tmp.path, `${tmp.path}/data/usage.sqlite3`);
  const first = await runEggpool(["--config", config, "migrate"], { cwd: tmp.path, env });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /Applied 0001_init\.sql\n/);
  const again = await runEggpool(["-c", config, "migrate"], { cwd: tmp.path, env });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /up to date/);
  assert.doesNotMatch(again.stdout, /Applied/);
  const db = new DatabaseSync(`${tmp.path}/data/usage.sqlite3`);
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
      .map((r) => r.name);
    for (const t of ["requests", "request_attempts", "account_backoffs", "usage_rollups"]) {
      assert.ok(tables.includes(t), `table ${t} exists`);
    }
    assert.equal(db.prepare("PRAGMA journal_mode").get()!.journal_mode, "wal");
    assert.equal(db.prepare("PRAGMA integrity_check").get()!.integrity_check, "ok");
  } finally {
    db.close();
  }
});

Deno.test("eggpool migrate refuses a database whose applied migration no longer matches", async () => {
  await using tmp = await withTmpDir();
  const env = isolatedEnv(tmp.path);
  const dbPath = `${tmp.path}/usage.sqlite3`;
  const config = await writeConfig(tmp.path, dbPath);
  assert.equal((await runEggpool(["-c", config, "migrate"], { cwd: tmp.path, env })).code, 0);
  const db = new DatabaseSync(dbPath);
  db.exec("UPDATE schema_migrations SET checksum = 'feedface' WHERE version = 1");
  db.close();
  for (const args of [["migrate"], ["db", "vacuum"]]) {
    const res = await runEggpool(["-c", config, ...args], { cwd: tmp.path, env });
    assert.equal(res.code, 1, `${args.join(" ")} must refuse`);
    assert.match(res.stderr, /0001_init\.sql/);
    assert.match(res.stderr, /feedface/);
  }
});

Deno.test("eggpool db vacuum compacts the database", async () => {
  await using tmp = await withTmpDir();
  const env = isolatedEnv(tmp.path);
  const config = await writeConfig(tmp.path, `${tmp.path}/usage.sqlite3`);
  const res = await runEggpool(["-c", config, "db", "vacuum"], { cwd: tmp.path, env });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /Database vacuum completed successfully/);
});
