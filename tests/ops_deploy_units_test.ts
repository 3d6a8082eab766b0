import assert from "node:assert/strict";
import { runEggpool } from "./_helpers/cli.ts";
import { underHome, withProductionExec } from "../src/ops/production_exec.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { freePort, opsEnv, writeServerConfig } from "./_helpers/ops.ts";
import { SERVER_V8_FLAG } from "../src/ops/v8_flags.ts";

const DEPLOY = new URL("../deploy/", import.meta.url).pathname;

async function available(cmd: string, args: string[]): Promise<boolean> {
  try {
    await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

/** `systemd-analyze verify` output; undefined when the tool is not installed. */
async function verifyUnit(
  path: string,
  runtimeDir: string,
): Promise<{ code: number; text: string } | undefined> {
  if (!await available("systemd-analyze", ["--version"])) return undefined;
  const out = await new Deno.Command("systemd-analyze", {
    args: ["verify", path],
    env: { XDG_RUNTIME_DIR: runtimeDir, SYSTEMD_LOG_LEVEL: "warning" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

/** Structure every unit we ship must have, checked whether or not systemd is around. */
function assertUnitShape(unit: string): void {
  const sections = [...unit.matchAll(/^\[(\w+)\]$/gm)].map((m) => m[1]);
  assert.deepEqual(sections, ["Unit", "Service", "Install"]);
  for (const line of unit.split("\n")) {
    if (line === "" || line.startsWith("#") || line.startsWith("[")) continue;
    assert.match(line, /^[A-Z][A-Za-z]+=\S/, `directive line: ${line}`);
  }
  assert.match(unit, /^Type=simple$/m);
  assert.match(unit, /^Restart=on-failure$/m);
  assert.match(unit, /^KillSignal=SIGTERM$/m);
  assert.match(unit, /^ExecStart=(\/|%h\/)\S+ .*--config (\/|%h\/)\S+ serve/m);
  assert.doesNotMatch(unit, /--daemon/, "systemd runs the foreground server");
}

async function checkUnit(unit: string, dir: string, execPath?: string): Promise<void> {
  assertUnitShape(unit);
  const file = `${dir}/eggpool.service`;
  await Deno.mkdir(`${dir}/rt`, { recursive: true });
  // verify needs ExecStart's binary to exist.
  await Deno.writeTextFile(file, execPath ? unit.replaceAll(execPath, Deno.execPath()) : unit);
  const result = await verifyUnit(file, `${dir}/rt`);
  if (result === undefined) return;
  assert.equal(result.code, 0, result.text);
  assert.doesNotMatch(result.text, /Unknown|unknown|Invalid|invalid|Failed|ignoring/, result.text);
}

Deno.test("deploy systemd prints a user unit for this eggpool and config that systemd accepts", async () => {
  await using tmp = await withTmpDir();
  const config = await writeServerConfig(tmp.path, freePort());
  await Deno.writeTextFile(`${tmp.path}/.env`, "X=1\n");
  const env = opsEnv(tmp.path);
  const res = await runEggpool(["--config", config, "deploy", "systemd"], { cwd: tmp.path, env });
  assert.equal(res.code, 0, res.stderr);
  const unitPath = `${tmp.path}/home/.config/systemd/user/eggpool.service`;
  assert.match(res.stdout, new RegExp(`Install to ${unitPath}:`));
  assert.match(res.stdout, /systemctl --user enable --now eggpool/);
  const unit = res.stdout.split("<< 'EGGPOOL_EOF'\n")[1].split("\nEGGPOOL_EOF")[0] + "\n";
  assert.match(
    unit,
    new RegExp(`^ExecStart=${Deno.execPath()} .*/main\\.ts --config ${config} serve$`, "m"),
  );
  // Run from source, the server still gets the heap flags a compiled binary has built in.
  assert.ok(unit.includes(` ${SERVER_V8_FLAG} `), unit);
  assert.match(unit, new RegExp(`^Environment=EGGPOOL_CONFIG=${config}$`, "m"));
  assert.match(unit, new RegExp(`^EnvironmentFile=-${tmp.path}/\\.env$`, "m"));
  assert.match(
    unit,
    new RegExp(`^WorkingDirectory=-${tmp.path}/home/\\.local/share/eggpool$`, "m"),
  );
  assert.match(unit, /^WantedBy=default\.target$/m);
  await checkUnit(unit, tmp.path);
  await assert.rejects(Deno.stat(unitPath), Deno.errors.NotFound, "printing installs nothing");
});

Deno.test("deploy systemd --install writes the user unit and runs systemctl --user", async () => {
  await using tmp = await withTmpDir();
  const config = await writeServerConfig(tmp.path, freePort());
  await Deno.mkdir(`${tmp.path}/bin`);
  await Deno.writeTextFile(
    `${tmp.path}/bin/systemctl`,
    `#!/bin/sh\necho "$*" >> "${tmp.path}/systemctl.calls"\n`,
    { mode: 0o755 },
  );
  const env = opsEnv(tmp.path, { PATH: `${tmp.path}/bin:${Deno.env.get("PATH")}` });
  const res = await runEggpool(
    ["--config", config, "deploy", "systemd", "--install", "--as-root"],
    {
      cwd: tmp.path,
      env,
    },
  );
  assert.equal(res.code, 0, res.stderr);
  const unitPath = `${tmp.path}/home/.config/systemd/user/eggpool.service`;
  const unit = await Deno.readTextFile(unitPath);
  assert.match(unit, /serve --as-root$/m);
  assert.equal(
    await Deno.readTextFile(`${tmp.path}/systemctl.calls`),
    "--user daemon-reload\n--user enable --now eggpool.service\n",
  );
  assert.match(res.stdout, /loginctl enable-linger/);
  assert.ok((await Deno.stat(`${tmp.path}/home/.local/share/eggpool`)).isDirectory);
  await checkUnit(unit, tmp.path);

  await Deno.writeTextFile(
    `${tmp.path}/bin/systemctl`,
    "#!/bin/sh\necho 'Failed to connect to bus' >&2\nexit 1\n",
  );
  const failing = await runEggpool([
    "--config",
    config,
    "deploy",
    "systemd",
    "--install",
    "--as-root",
  ], {
    cwd: tmp.path,
    env,
  });
  assert.equal(failing.code, 1);
  assert.match(
    failing.stderr,
    /'systemctl --user daemon-reload' failed:\nFailed to connect to bus/,
  );
  assert.match(failing.stderr, /Run the remaining steps yourself/);
});

Deno.test("deploy systemd --install refuses an invalid config and root without --as-root", async () => {
  await using tmp = await withTmpDir();
  const config = `${tmp.path}/config.toml`;
  await Deno.writeTextFile(config, "[server]\nport = 'x'\n");
  const env = opsEnv(tmp.path);
  const res = await runEggpool(
    ["--config", config, "deploy", "systemd", "--install", "--as-root"],
    {
      cwd: tmp.path,
      env,
    },
  );
  assert.equal(res.code, 1);
  assert.match(res.stderr, /configuration is not ready, so nothing was installed/);
  await assert.rejects(Deno.stat(`${tmp.path}/home/.config/systemd`), Deno.errors.NotFound);
  if (Deno.uid() === 0) {
    const root = await runEggpool(["--config", config, "deploy", "systemd", "--install"], {
      cwd: tmp.path,
      env,
    });
    assert.equal(root.code, 1);
    assert.match(root.stderr, /refusing to install a personal unit for root/);
  }
});

Deno.test("deploy systemd --production prints deploy/eggpool.service running this program, which systemd accepts", async () => {
  await using tmp = await withTmpDir();
  const config = await writeServerConfig(tmp.path, freePort());
  const res = await runEggpool(["--config", config, "deploy", "systemd", "--production"], {
    cwd: tmp.path,
    env: opsEnv(tmp.path),
  });
  assert.equal(res.code, 0, res.stderr);
  const shipped = await Deno.readTextFile(`${DEPLOY}eggpool.service`);
  const printed = res.stdout.split("<< 'EGGPOOL_EOF'\n")[1].split("EGGPOOL_EOF")[0];
  // The program line names the program that ran deploy (here Deno and the checkout's main.ts),
  // not the shipped file's /usr/local/bin/eggpool; every other line is the shipped file's.
  const exec = printed.match(/^ExecStart=(.*)$/m)?.[1] ?? "";
  assert.match(
    exec,
    new RegExp(`^${Deno.execPath()} .*/main\\.ts --config /etc/eggpool/config\\.toml serve$`),
  );
  // A checkout under /home (a user's clone) also gets ProtectHome=read-only,
  // so the service can read the program; from anywhere else the file as shipped.
  const inHome = underHome(Deno.execPath()) ||
    underHome(new URL("../main.ts", import.meta.url).pathname);
  assert.equal(
    printed.replace(exec, "/usr/local/bin/eggpool --config /etc/eggpool/config.toml serve"),
    inHome
      ? withProductionExec(shipped, {
        argv: [],
        execStart: "/usr/local/bin/eggpool --config /etc/eggpool/config.toml serve",
        inHome: true,
        problems: [],
      })
      : shipped,
  );
  assert.match(
    shipped,
    /^ExecStart=\/usr\/local\/bin\/eggpool --config \/etc\/eggpool\/config\.toml serve$/m,
  );
  assert.match(shipped, /^User=eggpool$/m);
  assert.match(shipped, /^WorkingDirectory=\/var\/lib\/eggpool$/m);
  assert.match(shipped, /^NoNewPrivileges=yes$/m);
  assert.match(shipped, /^WantedBy=multi-user\.target$/m);
  await checkUnit(printed, tmp.path);
  await checkUnit(shipped, tmp.path, "/usr/local/bin/eggpool");
  const manual = await Deno.readTextFile(`${DEPLOY}eggpool-user.service`);
  await Deno.mkdir(`${tmp.path}/manual`);
  await checkUnit(manual, `${tmp.path}/manual`, "%h/.local/bin/eggpool");
});

Deno.test("deploy logrotate prints the state-folder logs and --install checks the file with logrotate -d", async () => {
  await using tmp = await withTmpDir();
  const config = await writeServerConfig(tmp.path, freePort());
  const env = opsEnv(tmp.path, { EGGPOOL_LOG_FILE: "" });
  const run = (...args: string[]) =>
    runEggpool(["--config", config, ...args], { cwd: tmp.path, env });
  const state = `${tmp.path}/home/.local/state/eggpool`;
  const printed = await run("deploy", "logrotate");
  assert.equal(printed.code, 0, printed.stderr);
  assert.match(printed.stdout, /Install to \/etc\/logrotate\.d\/eggpool:/);
  assert.ok(printed.stdout.includes(`${state}/eggpool.log ${state}/cron.log {\n    su `));
  for (
    const d of [
      "daily",
      "rotate 14",
      "compress",
      "delaycompress",
      "missingok",
      "notifempty",
      "copytruncate",
      "dateext",
      "dateformat -%Y%m%d",
      "maxsize 100M",
    ]
  ) {
    assert.ok(printed.stdout.includes(`\n    ${d}\n`), d);
  }

  const target = `${tmp.path}/logrotate.d/eggpool`;
  const installed = await run("deploy", "logrotate", "--install", "--file", target);
  const content = await Deno.readTextFile(target);
  assert.ok(printed.stdout.includes(content.trimEnd()));
  assert.equal((await Deno.stat(target)).mode! & 0o777, 0o644);
  if (await available("logrotate", ["--version"])) {
    assert.equal(installed.code, 0, installed.stdout + installed.stderr);
    assert.match(installed.stdout, /logrotate accepted the snippet/);
  } else {
    assert.equal(installed.code, 0, installed.stderr);
    assert.match(installed.stderr, /logrotate is not installed/);
  }

  const production = await run("deploy", "logrotate", "--production");
  assert.ok(
    production.stdout.includes(
      await Deno.readTextFile(`${DEPLOY}eggpool.logrotate`).then((s) => s.trimEnd()),
    ),
  );
});

Deno.test("deploy all prints systemd, logrotate and the watchdog, separated by rules", async () => {
  await using tmp = await withTmpDir();
  const config = await writeServerConfig(tmp.path, freePort());
  const res = await runEggpool(["--config", config, "deploy", "all"], {
    cwd: tmp.path,
    env: opsEnv(tmp.path),
  });
  assert.equal(res.code, 0, res.stderr);
  const parts = res.stdout.split(/^={72}$/m);
  assert.equal(parts.length, 4);
  assert.match(parts[0], /== systemd user unit for /);
  assert.match(parts[1], /== logrotate ==/);
  assert.match(parts[2], /# BEGIN EggPool watchdog/);
  assert.match(parts[3], /deploy backup-cron --install/);
});
