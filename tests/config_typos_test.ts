/**
 * Issue #13: config mistakes that used to change behaviour silently (a
 * misspelt table or key left at its default, an accountless provider, a
 * string missing its closing quote reported as "control characters") are
 * errors that say what is wrong and what was probably meant. Each case runs
 * the real `check-config` and checks the exact line, exit 1 and that the
 * file is left as it was.
 */

import assert from "node:assert/strict";
import { isolatedEnv, runEggpool } from "./_helpers/cli.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

const KEY = "sk-live-4f9a8c2e7b1d6039a5f4e8c7b2d1a0f9e8";

const PROVIDER = `[providers.p]
id = "p"
base_url = "https://llm.example.com/v1"
`;

const ACCOUNT = `[[providers.p.accounts]]
name = "p-1"
api_key_env = "P_KEY"
`;

interface TypoCase {
  name: string;
  toml: string;
  /** Every problem line check-config must print, in order. */
  lines: string[];
}

const CASES: TypoCase[] = [
  {
    name: "a misspelt top-level table",
    toml: `[sever]\nport = 3000\n\n${PROVIDER}\n${ACCOUNT}`,
    lines: ["  - sever (line 1): unknown table [sever]; did you mean [server]?"],
  },
  {
    name: "[[provider.x.accounts]] instead of providers",
    toml: `${PROVIDER}\n[[provider.p.accounts]]\nname = "p-1"\napi_key_env = "P_KEY"\n`,
    lines: [
      "  - providers.p (line 1): has no accounts: add a [[providers.p.accounts]] table (name and " +
      "api_key_env), or set enabled = false to keep the provider switched off",
      "  - provider (line 5): unknown table [provider]; did you mean [providers]?",
    ],
  },
  {
    name: "a provider with no accounts",
    toml:
      `${PROVIDER}\n[providers.q]\nid = "q"\nbase_url = "https://q.example/v1"\nenabled = false\n`,
    lines: [
      "  - providers.p (line 1): has no accounts: add a [[providers.p.accounts]] table (name and " +
      "api_key_env), or set enabled = false to keep the provider switched off",
    ],
  },
  {
    name: "an unknown key in [server]",
    toml: `[server]\nport = 3000\nhots = "127.0.0.1"\n\n${PROVIDER}\n${ACCOUNT}`,
    lines: ["  - server.hots (line 3): unknown key; did you mean host?"],
  },
  {
    name: "an unknown key in a provider's auth",
    toml: `${PROVIDER}[providers.p.auth]\nmdoe = "bearer"\n\n${ACCOUNT}`,
    lines: ["  - providers.p.auth.mdoe (line 5): unknown key; did you mean mode?"],
  },
  {
    name: "an unknown key in an account, with nothing close to it",
    toml: `${PROVIDER}\n${ACCOUNT}colour = "blue"\n`,
    lines: [
      "  - providers.p.accounts[0].colour (line 8): unknown key; remove it or check the spelling",
    ],
  },
  {
    name: "a string missing its closing quote",
    toml: `[server]\nport = 3000\napi_key = "ep_abc\n\n${PROVIDER}\n${ACCOUNT}`,
    lines: [
      "  - (line 3): unterminated string at line 3: add the closing quote before the end of the line",
    ],
  },
  {
    name: "a multi-line string never closed",
    toml: `${PROVIDER}\n${ACCOUNT}\n[server]\napi_key = """ep_abc\n`,
    lines: [
      "  - (line 10): unterminated string at line 10: a multi-line string opened here is never closed",
    ],
  },
];

for (const c of CASES) {
  Deno.test(`check-config rejects ${c.name} and says what was meant`, async () => {
    await using tmp = await withTmpDir();
    const path = `${tmp.path}/config.toml`;
    await Deno.writeTextFile(path, c.toml);
    const env = { ...isolatedEnv(tmp.path), P_KEY: KEY };
    const r = await runEggpool(["--config", path, "check-config"], { cwd: tmp.path, env });
    const explain = `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
    assert.equal(r.code, 1, explain);
    const count = c.lines.length;
    assert.equal(
      r.stderr,
      `Error: configuration validation failed: ${count} problem${
        count === 1 ? "" : "s"
      } in ${path}\n${c.lines.join("\n")}\n`,
      explain,
    );
    assert.equal(await Deno.readTextFile(path), c.toml, "check-config left the file as it was");
  });
}
