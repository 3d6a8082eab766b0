/**
 * `eggpool check-config` and `eggpool init-config` run as real subprocesses:
 * config path resolution, .env handling, and one run per broken config.
 */

import assert from "node:assert/strict";
import { type CliResult, isolatedEnv, runEggpool } from "./_helpers/cli.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const EXAMPLE = new URL("../config.example.toml", import.meta.url);

/** Real-looking keys (40 characters) for the example config's accounts. */
const EXAMPLE_KEYS: Record<string, string> = {
  OPENCODE_GO_API_KEY_1: "sk-live-4f9a8c2e7b1d6039a5f4e8c7b2d1a0f9e8",
  OPENCODE_GO_API_KEY_2: "sk-live-9b3c7d1e5f2a8064b7c3d9e1f5a2b8c4d6",
  ANTHROPIC_API_KEY_1: "sk-ant-2e8f4a6c0b9d7e1f3a5c8b2d4e6f0a9c7b5",
};

const GOOD_KEY = "sk-live-4f9a8c2e7b1d6039a5f4e8c7b2d1a0f9e8";

/** A small valid config listening on `port`, with one account keyed from `P_KEY`. */
function minimalConfig(port: number): string {
  return `[server]
port = ${port}

[providers.p]
id = "p"
base_url = "https://llm.example.com/v1"

[[providers.p.accounts]]
name = "p-1"
api_key_env = "P_KEY"
`;
}

async function write(path: string, text: string): Promise<string> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, text);
  return path;
}

function explain(r: CliResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

Deno.test("check-config resolves the config path: --config, $EGGPOOL_CONFIG, XDG, ./config.toml", async () => {
  await using tmp = await withTmpDir();
  const root = tmp.path;
  const home = isolatedEnv(root);
  const cwd = `${root}/work`;
  const flagFile = await write(`${root}/flag/config.toml`, minimalConfig(1001));
  const envFile = await write(`${root}/envvar/config.toml`, minimalConfig(1002));
  const xdgFile = await write(`${home.XDG_CONFIG_HOME}/eggpool/config.toml`, minimalConfig(1003));
  await write(`${cwd}/config.toml`, minimalConfig(1004));
  const env = { ...home, P_KEY: GOOD_KEY, EGGPOOL_CONFIG: envFile };
  const run = (args: string[], extra: Record<string, string> = env) =>
    runEggpool(args, { cwd, env: extra });

  const [flag, fromEnv, xdg] = await Promise.all([
    run(["--config", flagFile, "check-config"]),
    run(["check-config"]),
    run(["check-config"], { ...home, P_KEY: GOOD_KEY }),
  ]);
  assert.equal(flag.code, 0, explain(flag));
  assert.match(flag.stdout, /^ {2}Server: 127\.0\.0\.1:1001$/m);
  assert.match(flag.stdout, new RegExp(`from ${flagFile}`));
  assert.equal(fromEnv.code, 0, explain(fromEnv));
  assert.match(fromEnv.stdout, /^ {2}Server: 127\.0\.0\.1:1002$/m);
  assert.equal(xdg.code, 0, explain(xdg));
  assert.match(xdg.stdout, /^ {2}Server: 127\.0\.0\.1:1003$/m);
  assert.match(xdg.stdout, new RegExp(`from ${xdgFile}`));

  await Deno.remove(xdgFile);
  const cwdRun = await run(["check-config"], { ...home, P_KEY: GOOD_KEY });
  assert.equal(cwdRun.code, 0, explain(cwdRun));
  assert.match(cwdRun.stdout, /^ {2}Server: 127\.0\.0\.1:1004$/m);
  assert.match(cwdRun.stdout, new RegExp(`from ${cwd}/config.toml`));
});

Deno.test("init-config writes the example, refuses to overwrite, and --force overwrites", async () => {
  await using tmp = await withTmpDir();
  const env = isolatedEnv(tmp.path);
  const example = await Deno.readTextFile(EXAMPLE);
  const target = `${tmp.path}/deep/er/config.toml`;

  const first = await runEggpool(["init-config", "deep/er/config.toml"], { cwd: tmp.path, env });
  assert.equal(first.code, 0, explain(first));
  // The other commands would not find it there on their own, so the next step names it.
  assert.equal(
    first.stdout.split("\n")[0] + "\n" + first.stdout.split("\n").at(-2),
    `Config written to ${target}\n  eggpool --config ${target} check-config`,
  );
  assert.equal(await Deno.readTextFile(target), example);
  assert.equal((await Deno.stat(target)).mode! & 0o777, 0o600);

  await Deno.writeTextFile(target, "# edited\n");
  const again = await runEggpool(["init-config", target], { cwd: tmp.path, env });
  assert.equal(again.code, 1, explain(again));
  assert.match(again.stderr, /already exists; use --force/);
  assert.equal(await Deno.readTextFile(target), "# edited\n");

  const forced = await runEggpool(["init-config", target, "--force"], { cwd: tmp.path, env });
  assert.equal(forced.code, 0, explain(forced));
  assert.equal(await Deno.readTextFile(target), example);

  // With no config anywhere, the default is where every command looks first: the XDG path.
  const byDefault = await runEggpool(["init-config"], { cwd: tmp.path, env });
  assert.equal(byDefault.code, 0, explain(byDefault));
  const xdg = `${env.XDG_CONFIG_HOME}/eggpool/config.toml`;
  assert.match(byDefault.stdout, new RegExp(`^Config written to ${xdg}\n`));
  assert.match(byDefault.stdout, /\n {2}eggpool check-config\n$/);
  assert.equal(await Deno.readTextFile(xdg), example);
  assert.equal((await Deno.stat(xdg)).mode! & 0o777, 0o600);
  assert.equal((await Deno.stat(`${env.XDG_CONFIG_HOME}/eggpool`)).mode! & 0o777, 0o700);
  // A ./config.toml that exists is the config in use, so it is the default target.
  await Deno.remove(xdg);
  await Deno.writeTextFile(`${tmp.path}/config.toml`, "# mine\n");
  const inCwd = await runEggpool(["init-config"], { cwd: tmp.path, env });
  assert.equal(inCwd.code, 1);
  assert.match(inCwd.stderr, new RegExp(`"${tmp.path}/config.toml" already exists`));
});

Deno.test("init-config --minimal writes a short starter and a .env with a fresh local key that check-config accepts once the provider key is in", async () => {
  await using tmp = await withTmpDir();
  const env = isolatedEnv(tmp.path);
  const dir = `${env.XDG_CONFIG_HOME}/eggpool`;
  const init = await runEggpool(["init-config", "--minimal"], { cwd: tmp.path, env });
  assert.equal(init.code, 0, explain(init));
  assert.match(init.stdout, new RegExp(`^Config written to ${dir}/config.toml\n`));
  assert.match(init.stdout, new RegExp(`written to ${dir}/\\.env\n`));
  for (const f of ["config.toml", ".env"]) {
    assert.equal((await Deno.stat(`${dir}/${f}`)).mode! & 0o777, 0o600, f);
  }
  const dotenv = await Deno.readTextFile(`${dir}/.env`);
  const key = /^SERVER_API_KEY=(ep_[A-Za-z0-9_-]{43})$/m.exec(dotenv)?.[1];
  assert.ok(key, dotenv);
  const config = await Deno.readTextFile(`${dir}/config.toml`);
  assert.ok(config.split("\n").length < 40, "a starter, not the full example");
  assert.ok(!config.includes(key), "the key lives in .env, not in the config");

  const unset = await runEggpool(["check-config"], { cwd: tmp.path, env });
  assert.equal(unset.code, 1);
  assert.match(unset.stderr, /GROQ_KEY_1/);
  await Deno.writeTextFile(`${dir}/.env`, dotenv.replace("GROQ_KEY_1=", `GROQ_KEY_1=${GOOD_KEY}`));
  const ok = await runEggpool(["check-config"], { cwd: tmp.path, env });
  assert.equal(ok.code, 0, explain(ok));
  assert.match(ok.stdout, /Server API key: env:SERVER_API_KEY \(set\)/);
  assert.ok(!ok.stdout.includes(key) && !ok.stdout.includes(GOOD_KEY), "no key is printed");

  // A second run changes nothing: neither file is overwritten, the key stays.
  const again = await runEggpool(["init-config", "--minimal"], { cwd: tmp.path, env });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists; use --force/);
  assert.ok((await Deno.readTextFile(`${dir}/.env`)).includes(key));
  const second = await runEggpool(["init-config", "--minimal", "--force"], { cwd: tmp.path, env });
  assert.equal(second.code, 0);
  const newKey = /^SERVER_API_KEY=(\S+)$/m.exec(await Deno.readTextFile(`${dir}/.env`))?.[1];
  assert.ok(newKey && newKey !== key, "--force generates a new key");
});

Deno.test("check-config passes on the example once its keys are set and names them when not", async () => {
  await using tmp = await withTmpDir();
  const path = `${tmp.path}/config.toml`;
  await Deno.copyFile(EXAMPLE, path);
  const env = isolatedEnv(tmp.path);
  const [ok, missing] = await Promise.all([
    runEggpool(["--config", path, "check-config"], {
      cwd: tmp.path,
      env: { ...env, ...EXAMPLE_KEYS },
    }),
    runEggpool(["--config", path, "check-config"], { cwd: tmp.path, env }),
  ]);
  assert.equal(ok.code, 0, explain(ok));
  assert.match(ok.stdout, new RegExp(`^Configuration loaded successfully from ${path}$`, "m"));
  assert.match(ok.stdout, /^ {2}Server: 127\.0\.0\.1:11300$/m);
  assert.match(
    ok.stdout,
    new RegExp(`^ {2}Database: ${env.XDG_DATA_HOME}/eggpool/usage\\.sqlite3$`, "m"),
  );
  assert.match(ok.stdout, /^ {2}Providers: 2$/m);
  assert.match(ok.stdout, /opencode-go-1 = env:OPENCODE_GO_API_KEY_1 \(set\)/);
  assert.match(ok.stdout, /^ {2}Content digest: [0-9a-f]{64}$/m);
  assert.doesNotMatch(ok.stdout, /warning/);
  for (const key of Object.values(EXAMPLE_KEYS)) assert.ok(!ok.stdout.includes(key));

  assert.equal(missing.code, 1, explain(missing));
  assert.match(missing.stderr, /^Error: configuration validation failed/);
  for (const name of Object.keys(EXAMPLE_KEYS)) {
    assert.match(missing.stderr, new RegExp(`env var '${name}' is not set`));
  }
});

Deno.test("check-config reads .env beside the config and the real environment wins", async () => {
  await using tmp = await withTmpDir();
  const path = await write(`${tmp.path}/cfg/config.toml`, minimalConfig(2000));
  const env = isolatedEnv(tmp.path);
  const run = (extra: Record<string, string>) =>
    runEggpool(["--config", path, "check-config"], { cwd: tmp.path, env: { ...env, ...extra } });

  await Deno.writeTextFile(`${tmp.path}/cfg/.env`, `# keys\nexport P_KEY="${GOOD_KEY}"\n`);
  const fromFile = await run({});
  assert.equal(fromFile.code, 0, explain(fromFile));
  assert.match(fromFile.stdout, /p-1 = env:P_KEY \(set\)/);
  assert.match(fromFile.stdout, new RegExp(`Env file: ${tmp.path}/cfg/\\.env`));

  await Deno.writeTextFile(`${tmp.path}/cfg/.env`, "P_KEY=your-api-key-here\n");
  const [realWins, realBad] = await Promise.all([
    run({ P_KEY: GOOD_KEY }),
    run({ P_KEY: "changeme" }),
  ]);
  assert.equal(realWins.code, 0, explain(realWins));
  assert.equal(realBad.code, 1, explain(realBad));
  assert.match(
    realBad.stderr,
    /providers\.p\.accounts\[0\]\.api_key_env \(line 10\): .*placeholder/,
  );
});

interface BrokenCase {
  name: string;
  toml: string;
  env?: Record<string, string>;
  /** Key path stderr must name. */
  path: string;
  line?: number;
  message?: RegExp;
}

/** One valid provider and account, to which each case adds one mistake. */
function withProvider(extra = "", account = 'api_key_env = "P_KEY"'): string {
  return `[providers.p]
id = "p"
base_url = "https://llm.example.com/v1"
${extra}

[[providers.p.accounts]]
name = "p-1"
${account}
`;
}

const BROKEN: BrokenCase[] = [
  {
    name: "bad TOML syntax",
    toml: "[server]\nport = \n",
    path: "",
    line: 2,
    message: /TOML syntax error at line 2/,
  },
  {
    name: "wrong type",
    toml: '[server]\nport = "8080"\n',
    path: "server.port",
    line: 2,
    message: /must be an integer.*found a string/,
  },
  {
    name: "port 0",
    toml: "[server]\nport = 0\n",
    path: "server.port",
    line: 2,
    message: /1 and 65535/,
  },
  { name: "port 70000", toml: "[server]\nport = 70000\n", path: "server.port", line: 2 },
  {
    name: "duplicate account names across providers",
    toml: withProvider() + `
[providers.q]
id = "q"
base_url = "https://other.example.com/v1"

[[providers.q.accounts]]
name = "p-1"
api_key_env = "P_KEY"
`,
    path: "providers.q.accounts[0].name",
    line: 15,
    message: /already used by providers\.p\.accounts\[0\]/,
  },
  {
    name: "missing key env var",
    toml: withProvider(),
    env: {},
    path: "providers.p.accounts[0].api_key_env",
    line: 8,
    message: /env var 'P_KEY' is not set/,
  },
  {
    name: "placeholder key",
    toml: withProvider("", 'api_key = "your-api-key-here"'),
    path: "providers.p.accounts[0].api_key",
    message: /placeholder/,
  },
  {
    name: "Bearer prefixed key",
    toml: withProvider(),
    env: { P_KEY: `Bearer ${GOOD_KEY}` },
    path: "providers.p.accounts[0].api_key_env",
    message: /raw token/,
  },
  {
    name: "unknown protocol",
    toml: withProvider('protocols = ["openai", "grpc"]'),
    path: "providers.p.protocols[1]",
    line: 4,
    message: /"openai", "anthropic"/,
  },
  {
    name: "proxy set twice on one account",
    toml: '[proxies.office]\nurl = "http://10.0.0.1:3128"\n\n' +
      withProvider(
        "",
        'api_key_env = "P_KEY"\nproxy = "office"\nproxy_url = "http://10.0.0.2:3128"',
      ),
    path: "providers.p.accounts[0].proxy_url",
  },
  {
    name: "proxy naming a missing [proxies.x]",
    toml: withProvider("", 'api_key_env = "P_KEY"\nproxy = "office"'),
    path: "providers.p.accounts[0].proxy",
    message: /no \[proxies\.office\]/,
  },
  {
    name: "unsupported proxy scheme",
    toml: '[proxies.office]\nurl = "socks4://10.0.0.1:1080"\n',
    path: "proxies.office.url",
    line: 2,
    message: /unsupported proxy scheme "socks4"/,
  },
  {
    name: "proxy with both url and url_env",
    toml: '[proxies.office]\nurl = "http://10.0.0.1:3128"\nurl_env = "OFFICE"\n',
    path: "proxies.office",
    message: /exactly one of url or url_env/,
  },
  {
    name: "base_url with a query",
    toml: '[providers.p]\nid = "p"\nbase_url = "https://llm.example.com/v1?team=1"\n',
    path: "providers.p.base_url",
    line: 3,
  },
  {
    name: "missing base_url",
    toml: '[providers.p]\nid = "p"\n',
    path: "providers.p.base_url",
    message: /is required/,
  },
  {
    name: "/v1/v1 duplicate path",
    toml: withProvider('openai_path = "/v1/chat/completions"'),
    path: "providers.p.openai_path",
    message: /\/v1\/v1\/chat\/completions/,
  },
  {
    name: "max_keepalive above max_connections",
    toml: "[upstream]\nmax_connections = 2\nmax_keepalive = 4\n",
    path: "upstream.max_keepalive",
    line: 3,
  },
  {
    name: "store_request_content = true",
    toml: "[dashboard]\nstore_request_content = true\n",
    path: "dashboard.store_request_content",
    message: /never stores/,
  },
  {
    name: "provider table key differs from id",
    toml: '[providers.p]\nid = "q"\nbase_url = "https://llm.example.com/v1"\n',
    path: "providers.p.id",
    line: 2,
  },
  {
    name: "forbidden header name",
    toml: withProvider('headers = [{ name = "Host", value = "x" }]'),
    path: "providers.p.headers[0].name",
  },
  {
    name: "non-loopback host without server key",
    toml: '[server]\nhost = "0.0.0.0"\n',
    path: "server.api_key",
    message: /non-loopback/,
  },
  {
    name: "invalid server key format",
    toml: '[server]\napi_key = "not a valid key!"\n',
    path: "server.api_key",
    line: 2,
    message: /8 to 512/,
  },
  {
    name: "server key from a ${NAME} that is not set",
    toml: '[server]\napi_key = "${EGGPOOL_LOCAL_KEY}"\n',
    path: "server.api_key",
    message: /'EGGPOOL_LOCAL_KEY'/,
  },
  {
    name: "input limit above context",
    toml: '[model_overrides."big-model"]\nmax_context_tokens = 1000\nmax_input_tokens = 2000\n',
    path: "model_overrides.big-model.max_input_tokens",
    line: 3,
  },
  {
    name: "negative price",
    toml: '[model_overrides."m"]\ninput_price_per_1k = -0.5\n',
    path: "model_overrides.m.input_price_per_1k",
    line: 2,
    message: /must not be negative/,
  },
  {
    name: "unknown local_quota_mode",
    toml: '[routing]\nlocal_quota_mode = "strict"\n',
    path: "routing.local_quota_mode",
    line: 2,
    message: /"score_only", "hard_cap"/,
  },
  {
    name: "threads other than 1",
    toml: "[server]\nthreads = 4\n",
    path: "server.threads",
  },
];

for (const c of BROKEN) {
  Deno.test(`check-config rejects a config with ${c.name}`, async () => {
    await using tmp = await withTmpDir();
    const path = await write(`${tmp.path}/config.toml`, c.toml);
    const env = { ...isolatedEnv(tmp.path), ...(c.env ?? { P_KEY: GOOD_KEY }) };
    const r = await runEggpool(["--config", path, "check-config"], { cwd: tmp.path, env });
    assert.notEqual(r.code, 0, explain(r));
    assert.match(r.stderr, /^Error: configuration validation failed/, explain(r));
    const where = c.path === "" ? "" : c.path + (c.line === undefined ? "" : ` (line ${c.line})`);
    const lineStart = c.path === "" ? `  - (line ${c.line})` : `  - ${where}`;
    assert.ok(r.stderr.includes(`\n${lineStart}`), `expected "${lineStart}"\n${explain(r)}`);
    if (c.message) assert.match(r.stderr, c.message, explain(r));
    assert.ok(!r.stderr.includes(GOOD_KEY), "a key value leaked into the output");
  });
}

Deno.test("check-config reports all three problems of one config", async () => {
  await using tmp = await withTmpDir();
  const path = await write(
    `${tmp.path}/config.toml`,
    "[server]\nport = 0\n\n[dashboard]\nstore_request_content = true\n\n" +
      withProvider('openai_path = "/v1/chat/completions"'),
  );
  const env = { ...isolatedEnv(tmp.path), P_KEY: GOOD_KEY };
  const r = await runEggpool(["--config", path, "check-config"], { cwd: tmp.path, env });
  assert.equal(r.code, 1, explain(r));
  assert.match(r.stderr, /3 problems/);
  assert.match(r.stderr, /server\.port \(line 2\)/);
  assert.match(r.stderr, /dashboard\.store_request_content \(line 5\)/);
  assert.match(r.stderr, /providers\.p\.openai_path \(line 10\)/);
});

Deno.test("check-config rejects an unknown key and suggests the one meant", async () => {
  await using tmp = await withTmpDir();
  const path = await write(
    `${tmp.path}/config.toml`,
    "[server]\nport = 3000\nprot = 3001\n" + withProvider(),
  );
  const env = { ...isolatedEnv(tmp.path), P_KEY: GOOD_KEY };
  const r = await runEggpool(["--config", path, "check-config"], { cwd: tmp.path, env });
  assert.equal(r.code, 1, explain(r));
  assert.ok(
    r.stderr.includes("\n  - server.prot (line 3): unknown key; did you mean port?\n"),
    explain(r),
  );
});
