/**
 * What `eggpool serve` says once it listens: what is ready, where the
 * dashboard is, and a warning when the API has no key.
 */
import { denoChildEnv } from "./_helpers/cli.ts";
import assert from "node:assert/strict";
import { withTmpDir } from "./_helpers/tmp.ts";
import { freePort, opsEnv, serverScope, writeServerConfig } from "./_helpers/ops.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../deno.json", import.meta.url).pathname;

/** Starts a foreground serve, returns its stderr up to the first request it can answer, stops it. */
async function startupLines(dir: string, config: string): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `--config=${DENO_JSON}`, MAIN, "--config", config, "serve", "--as-root"],
    cwd: dir,
    env: {
      ...opsEnv(dir),
      ...denoChildEnv(),
      NO_COLOR: "1",
    },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  try {
    while (!/Ready: .*\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    // The lines that follow "Ready:" arrive in the same tick; give them a moment.
    const more = await Promise.race([
      reader.read(),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 300)),
    ]);
    if (more && !more.done) text += more.value;
  } finally {
    child.kill("SIGTERM");
    await reader.cancel();
    await child.status;
  }
  return text;
}

Deno.test("serve says what is ready and where the dashboard is; without a key it says the API is open", async () => {
  await using tmp = await withTmpDir();
  await using _servers = serverScope(tmp.path);
  const port = freePort();
  const config = await writeServerConfig(tmp.path, port, {
    extra: '[[providers.p.static_models]]\nid = "m2"\n',
  });
  const keyed = await startupLines(tmp.path, config);
  assert.match(
    keyed,
    new RegExp(
      `\\[eggpool\\] Ready: 1 provider, 1 account, 2 models; dashboard http://127\\.0\\.0\\.1:${port}/\\n`,
    ),
    keyed,
  );
  assert.doesNotMatch(keyed, /No local API key/);

  const text = await Deno.readTextFile(config);
  await Deno.writeTextFile(
    config,
    text.replace(/api_key = "[^"]+"\n/, "").replace(
      "[server]",
      '[server]\napi_key_env = "NO_SUCH_VAR"',
    ) +
      "[dashboard]\nenabled = false\n",
  );
  const open = await startupLines(tmp.path, config);
  assert.match(open, /\[eggpool\] Ready: 1 provider, 1 account, 2 models\n/, open);
  assert.match(
    open,
    /\[eggpool\] No local API key is set: every program on this machine can use the API\./,
  );
});
