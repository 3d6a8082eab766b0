import assert from "node:assert/strict";
import { runEggpool } from "./_helpers/cli.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { freePort, opsEnv, writeServerConfig } from "./_helpers/ops.ts";

/**
 * A `crontab` stand-in that keeps the table in $CRONTAB_FILE: `-l` prints
 * it (exit 1 when there is none, like the real one), `-` replaces it, and
 * every call is logged to $CRONTAB_FILE.calls.
 */
const FAKE_CRONTAB = `#!/bin/sh
echo "$*" >> "$CRONTAB_FILE.calls"
if [ "$1" = "-u" ]; then shift 2; fi
case "$1" in
  -l) if [ -f "$CRONTAB_FILE" ]; then cat "$CRONTAB_FILE"; else echo "no crontab for user" >&2; exit 1; fi ;;
  -) cat > "$CRONTAB_FILE" ;;
  *) echo "unsupported: $*" >&2; exit 2 ;;
esac
`;

/** Foreign lines with awkward bytes: tabs, CR, a trailing space, blank lines, no final blank. */
const FOREIGN = 'MAILTO=""\n# my jobs\t(keep)\n0 3 * * *\t/usr/bin/backup-photos --all \n\n' +
  "@hourly /bin/echo 50% done\r\n# END EggPool watchdog look-alike that is not ours\n";

async function setup(dir: string) {
  await Deno.mkdir(`${dir}/bin`, { recursive: true });
  await Deno.writeTextFile(`${dir}/bin/crontab`, FAKE_CRONTAB, { mode: 0o755 });
  const config = await writeServerConfig(dir, freePort());
  const env = opsEnv(dir, {
    PATH: `${dir}/bin:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
    CRONTAB_FILE: `${dir}/crontab.txt`,
  });
  const run = (...args: string[]) => runEggpool(["--config", config, ...args], { cwd: dir, env });
  return { config, run, table: () => Deno.readTextFile(`${dir}/crontab.txt`) };
}

function blocks(text: string, kind: string): string[] {
  return [
    ...text.matchAll(
      new RegExp(`# BEGIN EggPool ${kind}[^\\n]*\\n[\\s\\S]*?# END EggPool ${kind}\\n`, "g"),
    ),
  ]
    .map((m) => m[0]);
}

Deno.test("deploy cron prints the watchdog block with absolute paths and installs nothing", async () => {
  await using tmp = await withTmpDir();
  const { config, run } = await setup(tmp.path);
  const res = await run("deploy", "cron", "--interval", "7");
  assert.equal(res.code, 0, res.stderr);
  const [block] = blocks(res.stdout, "watchdog");
  const lines = block.trimEnd().split("\n");
  assert.equal(lines[0], "# BEGIN EggPool watchdog (managed by eggpool deploy cron)");
  assert.equal(lines[3], "# END EggPool watchdog");
  const cronLog = `${tmp.path}/home/.local/state/eggpool/cron.log`;
  const tail = ` --config ${config} ensure-running >> ${cronLog} 2>&1`;
  assert.ok(
    lines[1].startsWith(`@reboot ${Deno.execPath()} `) && lines[1].endsWith(tail),
    lines[1],
  );
  assert.ok(lines[2].startsWith(`*/7 * * * * ${Deno.execPath()} `) && lines[2].endsWith(tail));
  assert.match(lines[1], /\/main\.ts --config /, "the launcher names the script by absolute path");
  await assert.rejects(Deno.stat(`${tmp.path}/crontab.txt`), Deno.errors.NotFound);
});

Deno.test("deploy cron --install twice leaves one block; --uninstall restores foreign lines byte for byte", async () => {
  await using tmp = await withTmpDir();
  const { run, table } = await setup(tmp.path);
  await Deno.writeTextFile(`${tmp.path}/crontab.txt`, FOREIGN);

  const first = await run("deploy", "cron", "--install", "--as-root");
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /Installed the EggPool watchdog/);
  const once = await table();
  assert.ok(once.startsWith(FOREIGN), "foreign lines stay first and unchanged");
  assert.equal(blocks(once, "watchdog").length, 1);
  assert.match(once, /ensure-running --as-root >> /);
  assert.ok(await Deno.stat(`${tmp.path}/home/.local/state/eggpool`), "the cron log folder exists");

  const second = await run("deploy", "cron", "--install", "--as-root");
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /already installed/);
  assert.equal(await table(), once, "reinstalling changes nothing");

  const other = await run("deploy", "cron", "--install", "--interval", "1", "--as-root");
  assert.equal(other.code, 0, other.stderr);
  const changed = await table();
  assert.equal(blocks(changed, "watchdog").length, 1);
  assert.match(changed, /\n\*\/1 \* \* \* \* /);

  const gone = await run("deploy", "cron", "--uninstall");
  assert.equal(gone.code, 0, gone.stderr);
  assert.match(gone.stdout, /Removed the EggPool watchdog/);
  assert.equal(await table(), FOREIGN, "byte for byte");
  const noop = await run("deploy", "cron", "--uninstall");
  assert.equal(noop.code, 0);
  assert.match(noop.stdout, /nothing changed/);
});

Deno.test("deploy cron starts a crontab from nothing and removes it to nothing", async () => {
  await using tmp = await withTmpDir();
  const { run, table } = await setup(tmp.path);
  assert.equal((await run("deploy", "cron", "--install")).code, 0);
  const text = await table();
  assert.ok(text.startsWith("# BEGIN EggPool watchdog"));
  assert.equal((await run("deploy", "cron", "--uninstall")).code, 0);
  assert.equal(await table(), "");
});

Deno.test("deploy cron validates --interval (1-59) and refuses an unterminated block", async () => {
  await using tmp = await withTmpDir();
  const { run, table } = await setup(tmp.path);
  for (const bad of ["0", "60", "5.5", "x", "-1"]) {
    const res = await run("deploy", "cron", "--interval", bad);
    assert.equal(res.code, 2, `--interval ${bad}`);
    assert.match(res.stderr, /whole number of minutes from 1 to 59/);
  }
  for (const ok of ["1", "59"]) {
    assert.equal((await run("deploy", "cron", "--interval", ok)).code, 0);
  }
  const broken = "# BEGIN EggPool watchdog (managed by eggpool deploy cron)\n@reboot x\n";
  await Deno.writeTextFile(`${tmp.path}/crontab.txt`, broken);
  const res = await run("deploy", "cron", "--install");
  assert.equal(res.code, 1);
  assert.match(res.stderr, /without a matching '# END EggPool watchdog'/);
  assert.equal(await table(), broken, "left unchanged");
});

Deno.test("deploy backup-cron installs its script and block beside the watchdog, and the script backs up", async () => {
  await using tmp = await withTmpDir();
  const { config, run, table } = await setup(tmp.path);
  const script = `${tmp.path}/bin/eggpool-backup`;
  assert.equal((await run("deploy", "cron", "--install")).code, 0);
  const res = await run("deploy", "backup-cron", "--install", "--script", script);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(
    await Deno.readTextFile(script),
    await Deno.readTextFile(new URL("../deploy/eggpool-backup", import.meta.url)),
  );
  assert.equal((await Deno.stat(script)).mode! & 0o777, 0o755);
  const text = await table();
  assert.equal(blocks(text, "watchdog").length, 1);
  const [backup] = blocks(text, "backup");
  const backups = `${tmp.path}/home/backups/eggpool`;
  assert.ok(
    backup.includes(`\n0 2 * * * ${script} ${config} ${tmp.path}/usage.sqlite3 ${backups} >> `),
    backup,
  );

  if (await hasCommands("sqlite3", "tar")) {
    const db = `${tmp.path}/usage.sqlite3`;
    await new Deno.Command("sqlite3", {
      args: [db, "create table t(x); insert into t values (42);"],
    })
      .output();
    const out = await new Deno.Command(script, { args: [config, db, backups] }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const archives = [...Deno.readDirSync(backups)].map((e) => e.name);
    assert.equal(archives.length, 1);
    assert.match(archives[0], /^eggpool-\d{8}-\d{6}\.tar\.gz$/);
    const list = await new Deno.Command("tar", { args: ["-tzf", `${backups}/${archives[0]}`] })
      .output();
    const names = new TextDecoder().decode(list.stdout);
    assert.match(names, /config\.toml/);
    assert.match(names, /usage\.sqlite3/);
  }

  const gone = await run("deploy", "backup-cron", "--uninstall", "--script", script);
  assert.equal(gone.code, 0, gone.stderr);
  const after = await table();
  assert.equal(blocks(after, "backup").length, 0);
  assert.equal(blocks(after, "watchdog").length, 1, "the watchdog is not ours to remove here");
  await assert.rejects(Deno.stat(script), Deno.errors.NotFound);
});

async function hasCommands(...names: string[]): Promise<boolean> {
  for (const name of names) {
    try {
      await new Deno.Command(name, { args: ["--version"], stdout: "null", stderr: "null" })
        .output();
    } catch {
      return false;
    }
  }
  return true;
}
