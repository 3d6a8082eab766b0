/**
 * `eggpool uninstall` in a temp layout: HOME, XDG folders, a fake binary
 * (`$EGGPOOL_BINARY_PATH`), system paths under `$EGGPOOL_SYSTEM_ROOT`, and
 * `crontab` / `systemctl` stand-ins on PATH, so the real user's crontab and
 * the real /etc are never touched.
 */
import assert from "node:assert/strict";
import { runEggpool } from "./_helpers/cli.ts";
import {
  freePort,
  opsEnv,
  pidFromFile,
  serverPids,
  serverScope,
  writeServerConfig,
} from "./_helpers/ops.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { runEggpoolInPty } from "./_helpers/pty.ts";

/** Keeps the table in $CRONTAB_FILE (as in ops_deploy_cron_test.ts). */
const FAKE_CRONTAB = `#!/bin/sh
case "$1" in
  -l) if [ -f "$CRONTAB_FILE" ]; then cat "$CRONTAB_FILE"; else echo "no crontab" >&2; exit 1; fi ;;
  -) cat > "$CRONTAB_FILE" ;;
  *) exit 2 ;;
esac
`;
const FAKE_SYSTEMCTL = `#!/bin/sh\necho "$*" >> "$SYSTEMCTL_LOG"\n`;
const FOREIGN = 'MAILTO=""\n0 3 * * * /usr/bin/backup-photos\n';
const CRONTAB = FOREIGN +
  "\n# BEGIN EggPool watchdog (managed by eggpool deploy cron)\n@reboot /x ensure-running\n" +
  "# END EggPool watchdog\n";

async function layout(dir: string) {
  const home = `${dir}/home`;
  const root = `${dir}/root`;
  const files = {
    binary: `${dir}/bin/eggpool`,
    config: `${home}/.config/eggpool/config.toml`,
    env: `${home}/.config/eggpool/.env`,
    dataDir: `${home}/.local/share/eggpool`,
    db: `${home}/.local/share/eggpool/usage.sqlite3`,
    stateDir: `${home}/.local/state/eggpool`,
    backup: `${home}/backups/eggpool/eggpool-backup-20260101-000000.zip`,
    userUnit: `${home}/.config/systemd/user/eggpool.service`,
    logrotate: `${root}/etc/logrotate.d/eggpool`,
    systemUnit: `${root}/etc/systemd/system/eggpool.service`,
    crontab: `${dir}/crontab.txt`,
  };
  for (const p of Object.values(files)) {
    await Deno.mkdir(p.slice(0, p.lastIndexOf("/")), { recursive: true });
  }
  await Deno.mkdir(files.stateDir, { recursive: true });
  await Deno.mkdir(`${dir}/tools`);
  await Deno.writeTextFile(`${dir}/tools/crontab`, FAKE_CRONTAB, { mode: 0o755 });
  await Deno.writeTextFile(`${dir}/tools/systemctl`, FAKE_SYSTEMCTL, { mode: 0o755 });
  await Deno.writeTextFile(files.binary, "#!/bin/sh\necho eggpool\n", { mode: 0o755 });
  const port = freePort();
  await writeServerConfig(`${home}/.config/eggpool`, port);
  // writeServerConfig puts the database beside the config; point it at the data dir.
  const text = await Deno.readTextFile(files.config);
  await Deno.writeTextFile(files.config, text.replace(/^path = .*$/m, `path = "${files.db}"`));
  await Deno.writeTextFile(files.env, "SERVER_API_KEY=x\n");
  await Deno.writeTextFile(files.db, "");
  await Deno.writeTextFile(files.backup, "kept");
  for (const p of [files.userUnit, files.logrotate, files.systemUnit]) {
    await Deno.writeTextFile(p, "# eggpool\n");
  }
  await Deno.writeTextFile(files.crontab, CRONTAB);
  const env = opsEnv(dir, {
    PATH: `${dir}/tools:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
    CRONTAB_FILE: files.crontab,
    SYSTEMCTL_LOG: `${dir}/systemctl.log`,
    EGGPOOL_SYSTEM_ROOT: root,
    EGGPOOL_BINARY_PATH: files.binary,
  });
  const run = (...args: string[]) => runEggpool(args, { cwd: dir, env });
  return { files, run, env };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("uninstall prints the plan and, without a terminal or --yes, names --yes and removes nothing", async () => {
  await using tmp = await withTmpDir();
  const { files, run } = await layout(tmp.path);
  const res = await run("uninstall");
  assert.equal(res.code, 1);
  assert.match(res.stderr, /pass --yes to confirm/);
  const lines = res.stdout.split("\n");
  assert.equal(lines[0], `EggPool uninstall plan (install: binary, ${files.binary})`);
  for (
    const [what, path] of [
      ["binary", files.binary],
      ["config", files.config],
      ["env", files.env],
      ["database", files.db],
      ["data dir", files.dataDir],
      ["state dir", files.stateDir],
    ]
  ) {
    assert.ok(lines.includes(`  remove  ${what.padEnd(9)} ${path}`), `${what}:\n${res.stdout}`);
  }
  assert.ok(lines.includes(`  keep    backups   ${tmp.path}/home/backups/eggpool (never deleted)`));
  assert.match(res.stdout, /Deploy artifacts left in place \(pass --deploy-artifacts/);
  assert.match(res.stdout, /EggPool watchdog block\(s\) in your crontab/);
  assert.ok(lines.includes(`      sudo rm ${files.logrotate}`) === false, "not under /etc here");
  assert.ok(lines.includes(`      rm ${files.logrotate}`));
  for (const p of Object.values(files)) assert.ok(await exists(p), p);
  assert.equal(await Deno.readTextFile(files.crontab), CRONTAB);
});

Deno.test("uninstall --yes --keep-data --keep-config removes only the binary and leaves the artifacts", async () => {
  await using tmp = await withTmpDir();
  const { files, run } = await layout(tmp.path);
  const res = await run("uninstall", "--yes", "--keep-data", "--keep-config");
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, new RegExp(`  keep    config    ${files.config} \\(--keep-config\\)`));
  assert.match(res.stdout, new RegExp(`  keep    database  ${files.db} \\(--keep-data\\)`));
  assert.ok(!(await exists(files.binary)));
  for (const [name, p] of Object.entries(files)) {
    if (name !== "binary") assert.ok(await exists(p), `${name} kept`);
  }
  assert.equal(await Deno.readTextFile(files.crontab), CRONTAB);
  assert.match(res.stdout, /EggPool is uninstalled\. Backups stay in .*\/home\/backups\/eggpool\./);
});

Deno.test("uninstall --yes --deploy-artifacts stops the server and removes everything but the backups and foreign cron lines", async () => {
  await using tmp = await withTmpDir();
  await using _servers = serverScope(tmp.path);
  const { files, run } = await layout(tmp.path);
  const started = await run("serve", "--daemon", "--as-root");
  assert.equal(started.code, 0, started.stderr);
  const pid = pidFromFile(tmp.path);

  const res = await run("uninstall", "--yes", "--deploy-artifacts");
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, new RegExp(`Server stopped \\(PID ${pid}\\)`));
  assert.deepEqual(serverPids(tmp.path), []);
  for (const [name, p] of Object.entries(files)) {
    const kept = name === "backup" || name === "crontab";
    assert.equal(await exists(p), kept, `${name} ${kept ? "kept" : "removed"}`);
  }
  assert.ok(!(await exists(`${tmp.path}/home/.config/eggpool`)), "the emptied config dir is gone");
  assert.equal(await Deno.readTextFile(files.backup), "kept");
  assert.equal(await Deno.readTextFile(files.crontab), FOREIGN);
  assert.deepEqual((await Deno.readTextFile(`${tmp.path}/systemctl.log`)).trim().split("\n"), [
    "--user disable --now eggpool.service",
    "--user daemon-reload",
    "disable --now eggpool.service",
    "daemon-reload",
  ]);
});

Deno.test("uninstall from a source checkout leaves the checkout and says so", async () => {
  await using tmp = await withTmpDir();
  const { files, env } = await layout(tmp.path);
  delete env.EGGPOOL_BINARY_PATH;
  const res = await runEggpool(["uninstall", "--yes", "--keep-data"], { cwd: tmp.path, env });
  assert.equal(res.code, 0, res.stderr);
  const checkout = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  assert.match(res.stdout, new RegExp(`install: source, ${checkout}\\)`));
  assert.match(res.stdout, new RegExp(`The checkout in ${checkout} was left in place`));
  assert.ok(await exists(`${checkout}/main.ts`));
  assert.ok(await exists(files.binary), "a binary that is not this install is not touched");
  assert.ok(!(await exists(files.config)));
});

Deno.test("uninstall in a terminal asks, and No (the default) removes nothing", async () => {
  await using tmp = await withTmpDir();
  const { files, env } = await layout(tmp.path);
  const res = await runEggpoolInPty(["uninstall"], {
    cwd: tmp.path,
    env,
    answers: [{ prompt: "Remove EggPool as listed above?", keys: "\r" }],
  });
  assert.equal(res.code, 0, res.output);
  assert.match(res.output, /remove {2}binary {4}/);
  assert.match(res.output, /Nothing was removed\./);
  for (const p of Object.values(files)) assert.ok(await exists(p), p);
});
