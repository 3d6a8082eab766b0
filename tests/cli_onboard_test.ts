/** `eggpool onboard` run by a script: from no config at all to a serving proxy. */
import assert from "node:assert/strict";
import { runEggpool } from "./_helpers/cli.ts";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { freePort, opsEnv, serverScope } from "./_helpers/ops.ts";

Deno.test("onboard without a terminal and without flags names the flags and creates nothing", async () => {
  await using tmp = await withTmpDir();
  const env = opsEnv(tmp.path);
  const r = await runEggpool(["onboard"], { cwd: tmp.path, env });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /no terminal to ask on; pass --yes .* --host HOST and --provider TEMPLATE/,
  );
  assert.equal(r.stdout, "");
  assert.deepEqual([...Deno.readDirSync(tmp.path)].map((e) => e.name), []);
});

Deno.test("onboard from nothing to a serving proxy, then again with the server running", async () => {
  await using tmp = await withTmpDir();
  await using _servers = serverScope(tmp.path);
  await using mock = await startMockUpstream({ keys: ["sk-onboard"] });
  const tpl = `${tmp.path}/templates.toml`;
  await Deno.writeTextFile(
    tpl,
    [
      "[providers.mockai]",
      `base_url = "${mock.url}"`,
      'display_name = "Mock AI"',
      'notes = "test"',
      "",
    ].join("\n"),
  );
  const port = freePort();
  const env = opsEnv(tmp.path);
  const run = (...args: string[]) => runEggpool(args, { cwd: tmp.path, env });
  const config = `${env.XDG_CONFIG_HOME}/eggpool/config.toml`;

  const r = await run(
    "onboard",
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--provider",
    "mockai",
    "--providers",
    tpl,
    "--api-key",
    "sk-onboard",
    "--daemon",
    "--as-root",
  );
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  assert.equal(lines[0], "=== EggPool Onboarding ===");
  for (
    const expected of [
      /^Generated server API key\.$/m,
      new RegExp(
        `^Created ${config} \\(the key is in ${env.XDG_CONFIG_HOME}/eggpool/\\.env\\)\\.$`,
        "m",
      ),
      /key works, 2 models/,
      /^Added mockai-0001 to mockai\.$/m,
      /^Connected 1 provider\(s\)\.$/m,
      /^Configuration is valid: /m,
      new RegExp(
        `^Started eggpool server \\(PID \\d+\\), listening on http://127\\.0\\.0\\.1:${port}\\.$`,
        "m",
      ),
    ]
  ) assert.match(r.stdout, expected);
  assert.equal((await Deno.stat(config)).mode! & 0o777, 0o600);

  const key = (await run("getkey")).stdout;
  assert.match(key, /^ep_[A-Za-z0-9_-]{43}$/);
  const models = await fetch(`http://127.0.0.1:${port}/v1/models`, {
    headers: { authorization: `Bearer ${key}` },
  });
  const ids = ((await models.json()) as { data: { id: string }[] }).data.map((m) => m.id);
  assert.deepEqual(ids, ["mock-large/mockai", "mock-small/mockai"]);
  const chat = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "mock-small", messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(chat.status, 200);
  assert.match(
    ((await chat.json()) as { choices: { message: { content: string } }[] })
      .choices[0].message.content,
    /hi/,
  );
  assert.equal(
    mock.requestsFor("sk-onboard").filter((q) => q.path.endsWith("/chat/completions")).length,
    1,
  );

  const before = await Deno.readTextFile(config);
  const again = await run("onboard", "--yes");
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^Connected 0 provider\(s\)\.$/m);
  assert.match(
    again.stdout,
    /^Server is already running\. Use 'eggpool restart' to apply configuration changes\.$/m,
  );
  assert.ok(!again.stdout.includes("Generated"), "the key is kept");
  assert.equal(await Deno.readTextFile(config), before);
  assert.equal((await run("getkey")).stdout, key);

  assert.equal((await run("stop")).code, 0);
});
