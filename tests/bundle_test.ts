import assert from "node:assert/strict";
import { isolatedEnv, runEggpool } from "./_helpers/cli.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { freePort, opsEnv, pidFromFile, serverScope, writeServerConfig } from "./_helpers/ops.ts";
import { isListening, startDemo } from "./_helpers/demo.ts";
import { CHART_JS_UMD } from "../scripts/gen_assets.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** `deno task bundle` into `dir`: the code-split bundle with its lazy require shim. */
async function bundleInto(dir: string): Promise<string> {
  const res = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${ROOT}scripts/bundle.ts`, dir],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(res.code, 0, new TextDecoder().decode(res.stderr));
  return dir;
}

Deno.test("the bundle runs version, init-config, check-config, croncheck, a daemon and the demo with no source tree around it", async () => {
  await using build = await withTmpDir();
  await using empty = await withTmpDir();
  const bundled = await bundleInto(`${build.path}/bundle`);
  // Copied file by file into an empty directory: nothing may point back at the source tree.
  const files: string[] = [];
  for await (const entry of Deno.readDir(bundled)) {
    files.push(entry.name);
    await Deno.copyFile(`${bundled}/${entry.name}`, `${empty.path}/${entry.name}`);
  }
  assert.ok(files.includes("main.js"), `no main.js among ${files.join(", ")}`);
  for (const name of files) {
    const text = await Deno.readTextFile(`${empty.path}/${name}`);
    assert.ok(!text.includes(ROOT), `${name} refers to the source tree`);
    assert.ok(!text.includes('from "node:module"'), `${name} loads node:module up front`);
  }
  const script = `${empty.path}/main.js`;
  const env = isolatedEnv(empty.path);

  const version = await runEggpool(["version"], { cwd: empty.path, env, script });
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /^eggpool \d+\.\d+\.\d+/);

  const init = await runEggpool(["init-config", "cfg/config.toml"], {
    cwd: empty.path,
    env,
    script,
  });
  assert.equal(init.code, 0, init.stderr);
  const written = await Deno.readTextFile(`${empty.path}/cfg/config.toml`);
  const example = await Deno.readTextFile(`${ROOT}/config.example.toml`);
  assert.equal(written, example, "init-config must write the embedded example byte for byte");
  // The provider templates are embedded the same way.
  const templates = await runEggpool(["connect", "list"], { cwd: empty.path, env, script });
  assert.match(templates.stdout, /\* groq: Groq \(https:\/\/api\.groq\.com\/openai\/v1\) \[✓\]/);

  const keys = await exampleKeyEnv(example);
  const check = await runEggpool(["--config", "cfg/config.toml", "check-config"], {
    cwd: empty.path,
    env: { ...env, ...keys },
    script,
  });
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /Configuration loaded successfully/);

  const migrate = await runEggpool(["--config", "cfg/config.toml", "migrate"], {
    cwd: empty.path,
    env: { ...env, ...keys },
    script,
  });
  assert.equal(migrate.code, 0, migrate.stderr);
  assert.match(migrate.stdout, /0001_init/);

  await checkLifecycle(empty.path, script);
  await checkDemo(empty.path, script);
});

/** `eggpool demo` from the bundle: it starts, answers one request, exits 0 on SIGINT. */
async function checkDemo(dir: string, script: string): Promise<void> {
  const env = { ...isolatedEnv(dir), TMPDIR: `${dir}/demo-tmp` };
  await Deno.mkdir(env.TMPDIR);
  await using demo = await startDemo(["--traffic", "none", "--port", "0"], {
    cwd: dir,
    env,
    script,
  });
  const { origin, localKey } = demo.settings;
  const res = await fetch(`${origin}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${localKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "sim-gpt-large", messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).choices[0].message.content, "echo: hi");
  const stopped = await demo.stop("SIGINT");
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.equal(await isListening(origin), false);
  assert.deepEqual([...Deno.readDirSync(env.TMPDIR)], []);
}

/** The fast path and a daemon started from the bundle (the child must re-run the bundle). */
async function checkLifecycle(dir: string, script: string): Promise<void> {
  await using _servers = serverScope(dir);
  const port = freePort();
  const config = await writeServerConfig(dir, port);
  const env = opsEnv(dir);
  const run = (...args: string[]) =>
    runEggpool(["--config", config, ...args], { cwd: dir, env, script });
  const down = await run("croncheck");
  assert.equal(down.code, 1, down.stderr);
  assert.equal(down.stdout, "Server is not running.\n");
  const start = await run("serve", "--daemon", "--as-root");
  assert.equal(start.code, 0, start.stderr);
  const pid = pidFromFile(dir);
  const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`);
  assert.ok(cmdline.split("\0").includes(script), "the daemon runs the bundle again");
  const up = await run("croncheck");
  assert.equal(up.code, 0, up.stderr);
  assert.equal(up.stdout, `Server is running (PID ${pid}).\n`);
  // The bundle carries the dashboard's files: Chart.js byte for byte, the binary favicon.
  const chart = await fetch(`http://127.0.0.1:${port}/static/chart.umd.min.js`);
  const served = new Uint8Array(await chart.arrayBuffer());
  const pkg = await Deno.readFile(CHART_JS_UMD);
  assert.ok(served.length === pkg.length && served.every((b, i) => b === pkg[i]));
  const icon = await fetch(`http://127.0.0.1:${port}/favicon.ico`);
  const iconBytes = new Uint8Array(await icon.arrayBuffer());
  assert.deepEqual(
    iconBytes,
    await Deno.readFile(new URL("../static/favicon.ico", import.meta.url)),
  );
  const ensure = await run("ensure-running", "--as-root");
  assert.equal(ensure.code, 0, ensure.stderr);
  assert.equal(ensure.stdout, "");
  const status = await run("runtime-status", "--json");
  assert.equal(status.code, 0, status.stderr);
  assert.equal(JSON.parse(status.stdout).pid, pid);
  const stop = await run("stop");
  assert.equal(stop.code, 0, stop.stderr);
  assert.equal(stop.stdout, `Server stopped (PID ${pid}).\n`);
}

/** Gives every `*_env` variable the example config names a realistic-looking value. */
function exampleKeyEnv(example: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of example.matchAll(/^\s*(?:api_key_env|value_env)\s*=\s*"([A-Z0-9_]+)"/gm)) {
    env[m[1]] = `sk-live-${crypto.randomUUID().replaceAll("-", "")}`;
  }
  return env;
}
