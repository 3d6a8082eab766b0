/**
 * The interactive paths of the config commands, answered through a real
 * pseudo-terminal: menus, a hidden key prompt, yes/no questions.
 */
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { type PtyAnswer, runEggpoolInPty } from "./_helpers/pty.ts";
import { isolatedEnv, runEggpool } from "./_helpers/cli.ts";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { BUNDLED_TEMPLATES, parseTemplates } from "../src/config/templates.ts";
import { byCategory } from "../src/cli/commands/connect_list.ts";

/** Keys as a terminal sends them. */
const KEY = { enter: "\r", down: "\x1b[B" } as const;

/** Runs `eggpool ARGS` in a terminal inside `dir`'s isolated HOME, answering each prompt in turn. */
async function runInPty(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; steps: { expect: string; send: string }[] },
): Promise<{ code: number; screen: string }> {
  const answers: PtyAnswer[] = options.steps.map((s) => ({ prompt: s.expect, keys: s.send }));
  const r = await runEggpoolInPty(args, {
    cwd: options.cwd,
    env: { ...isolatedEnv(options.cwd), ...options.env },
    answers,
  });
  return { code: r.code, screen: r.output };
}

/** Presses "down" until the menu's cursor is on `id` (menu order: by category, as connect shows it). */
async function menuMoves(overlay: string, id: string): Promise<string> {
  const all = parseTemplates(BUNDLED_TEMPLATES, "bundled");
  for (const [k, t] of parseTemplates(await Deno.readTextFile(overlay), overlay)) all.set(k, t);
  const order = byCategory(all).flatMap(([, list]) => list.map((t) => t.id));
  return KEY.down.repeat(order.indexOf(id));
}

async function setup(dir: string, mockUrl: string) {
  const config = `${dir}/config.toml`;
  await Deno.writeTextFile(
    config,
    [
      "[server]",
      'host = "127.0.0.1"',
      'api_key_env = "SERVER_API_KEY"',
      "[database]",
      `path = "${dir}/usage.sqlite3"`,
      "",
    ].join("\n"),
  );
  await Deno.writeTextFile(`${dir}/.env`, "SERVER_API_KEY=ep_interactive_key_0123456789\n");
  const tpl = `${dir}/templates.toml`;
  await Deno.writeTextFile(
    tpl,
    `[providers.mockai]\nbase_url = "${mockUrl}"\ndisplay_name = "Mock AI"\nnotes = "test"\n`,
  );
  return { config, tpl };
}

Deno.test("connect in a terminal: pick the template from the menu, type the key unseen", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ keys: ["sk-typed-key-1234"] });
  const { config, tpl } = await setup(tmp.path, mock.url);
  const r = await runInPty(["--config", config, "connect", "--providers", tpl], {
    cwd: tmp.path,
    steps: [
      { expect: "Which provider?", send: (await menuMoves(tpl, "mockai")) + KEY.enter },
      { expect: "API key for Mock AI", send: `sk-typed-key-1234${KEY.enter}` },
    ],
  });
  assert.equal(r.code, 0, r.screen);
  assert.match(r.screen, /key works, 2 models/);
  assert.match(r.screen, /Added mockai-0001 to mockai\./);
  assert.ok(!r.screen.includes("sk-typed-key-1234"), "the key was not echoed");
  assert.match(await Deno.readTextFile(`${tmp.path}/.env`), /^MOCKAI_KEY_1=sk-typed-key-1234$/m);
});

Deno.test("connect in a terminal to a local server asks its id and base URL, with defaults", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ models: ["local-a"] });
  const { config, tpl } = await setup(tmp.path, mock.url);
  await Deno.writeTextFile(
    tpl,
    '[providers.mylocal]\nbase_url = "http://127.0.0.1:9/v1"\ncategory = "local"\n' +
      'notes = "keyless"\n[providers.mylocal.auth]\nmode = "none"\n',
    { append: true },
  );
  const r = await runInPty(["--config", config, "connect", "--providers", tpl], {
    cwd: tmp.path,
    steps: [
      { expect: "Which provider?", send: (await menuMoves(tpl, "mylocal")) + KEY.enter },
      { expect: "Provider id for this server", send: `lab-box${KEY.enter}` },
      { expect: "Base URL of the server", send: `${mock.url}${KEY.enter}` },
    ],
  });
  assert.equal(r.code, 0, r.screen);
  assert.match(r.screen, /it answers, 1 model\r?\n/);
  assert.match(r.screen, /Added lab-box-0001 to lab-box\./);
  const doc = JSON.parse(JSON.stringify(parse(await Deno.readTextFile(config))));
  assert.equal(doc.providers["lab-box"].base_url, mock.url);
  assert.equal(doc.providers["lab-box"].id, "lab-box");
});

Deno.test("logout in a terminal offers a menu when the target matches several accounts", async () => {
  await using tmp = await withTmpDir();
  const { config } = await setup(tmp.path, "http://127.0.0.1:9/v1");
  await Deno.writeTextFile(
    config,
    [
      "[providers.p]",
      'id = "p"',
      'base_url = "http://127.0.0.1:9/v1"',
      "[[providers.p.accounts]]",
      'name = "first"',
      'api_key = "sk-first-key-000"',
      "[[providers.p.accounts]]",
      'name = "second"',
      'api_key = "sk-second-key-00"',
      "",
    ].join("\n"),
    { append: true },
  );
  const r = await runInPty(["--config", config, "logout", "p"], {
    cwd: tmp.path,
    steps: [{ expect: "matches several accounts", send: KEY.down + KEY.enter }],
  });
  assert.equal(r.code, 0, r.screen);
  assert.match(r.screen, /Removed p\/second from/);
  const doc = JSON.parse(JSON.stringify(parse(await Deno.readTextFile(config))));
  assert.deepEqual(doc.providers.p.accounts, [{ name: "first", api_key: "sk-first-key-000" }]);
});

Deno.test("edit in a terminal: an invalid edit can be reopened and fixed", async () => {
  await using tmp = await withTmpDir();
  const { config } = await setup(tmp.path, "http://127.0.0.1:9/v1");
  const before = await Deno.readTextFile(config);
  // The first run breaks the file, the second (reopened) run fixes it.
  const editor = `${tmp.path}/editor.sh`;
  await Deno.writeTextFile(
    editor,
    [
      "#!/bin/sh",
      `if [ -e "${tmp.path}/broke" ]; then`,
      `  sed -i 's/^port = "oops$/# fixed on the second try/' "$1"`,
      "else",
      `  touch "${tmp.path}/broke"; printf 'port = "oops\\n' >> "$1"`,
      "fi",
      "",
    ].join("\n"),
  );
  await Deno.chmod(editor, 0o755);
  const r = await runInPty(["--config", config, "edit"], {
    cwd: tmp.path,
    env: { EDITOR: editor },
    steps: [{ expect: "What now?", send: KEY.enter }],
  });
  assert.equal(r.code, 0, r.screen);
  assert.match(r.screen, /unterminated string at line 6/);
  assert.match(r.screen, /Config is valid/);
  assert.equal(await Deno.readTextFile(config), `${before}# fixed on the second try\n`);
});

Deno.test("onboard in a terminal: LAN question, a provider from the menu, then no more", async () => {
  await using tmp = await withTmpDir();
  await using mock = await startMockUpstream({ keys: ["sk-onboard-typed"] });
  const tpl = `${tmp.path}/templates.toml`;
  await Deno.writeTextFile(
    tpl,
    `[providers.mockai]\nbase_url = "${mock.url}"\ndisplay_name = "Mock AI"\nnotes = "test"\n`,
  );
  const r = await runInPty(["onboard", "--providers", tpl, "--no-start"], {
    cwd: tmp.path,
    steps: [
      { expect: "Bind the dashboard/API to the LAN", send: "y" },
      { expect: "Add a provider?", send: "y" },
      { expect: "Which provider?", send: (await menuMoves(tpl, "mockai")) + KEY.enter },
      { expect: "API key for Mock AI", send: `sk-onboard-typed${KEY.enter}` },
      { expect: "Add another provider?", send: "n" },
    ],
  });
  assert.equal(r.code, 0, r.screen);
  assert.match(r.screen, /Connected 1 provider\(s\)\./);
  assert.match(r.screen, /Start the server with: eggpool serve --daemon/);
  const env = isolatedEnv(tmp.path);
  const doc = parse(await Deno.readTextFile(`${env.XDG_CONFIG_HOME}/eggpool/config.toml`)) as {
    server: { host: string };
  };
  assert.equal(doc.server.host, "0.0.0.0");
  const check = await runEggpool(["check-config"], { cwd: tmp.path, env });
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /Server: 0\.0\.0\.0:11300/);
});
