/**
 * Issue #13, "failures that explain themselves": a provider whose key is
 * rejected and one that is down must show up where an operator looks (the
 * startup log, readiness, runtime-status, accounts status and the client's
 * error) with the cause, instead of a healthy server answering "not found".
 */
import assert from "node:assert/strict";
import { runEggpool } from "./_helpers/cli.ts";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { freePort, OPS_KEY, opsEnv, serverScope, serverTomlLines } from "./_helpers/ops.ts";

const REJECTED = "HTTP 401, the provider rejected the key";

/** Two providers: `groq` at the mock with a key it refuses, `local` at a closed port. */
async function writeConfig(dir: string, port: number, mockUrl: string, closedPort: number) {
  const path = `${dir}/config.toml`;
  await Deno.writeTextFile(
    path,
    [
      ...serverTomlLines(dir, port),
      "[models]",
      "startup_refresh = true",
      "[providers.groq]",
      'id = "groq"',
      `base_url = "${mockUrl}"`,
      'protocols = ["openai"]',
      '[providers.groq.model_overrides."llama-x"]',
      "max_context_tokens = 8000",
      "[[providers.groq.accounts]]",
      'name = "groq-1"',
      'api_key = "sk-wrong-key-000000"',
      "[providers.local]",
      'id = "local"',
      `base_url = "http://127.0.0.1:${closedPort}/v1"`,
      'protocols = ["openai"]',
      "[[providers.local.accounts]]",
      'name = "local-1"',
      'api_key = "sk-local-key-000000"',
    ].join("\n") + "\n",
  );
  return path;
}

Deno.test("a rejected key and a closed port are named in the log, readyz, runtime-status, accounts status and the client's 503", async () => {
  await using tmp = await withTmpDir();
  await using _servers = serverScope(tmp.path);
  await using mock = await startMockUpstream({ keys: ["sk-right-key-000000"] });
  const port = freePort();
  const closedPort = freePort();
  const config = await writeConfig(tmp.path, port, mock.url, closedPort);
  const env = opsEnv(tmp.path);
  const run = (...args: string[]) =>
    runEggpool(["--config", config, ...args], { cwd: tmp.path, env });

  const start = await run("serve", "--daemon", "--as-root");
  assert.equal(start.code, 0, start.stderr);

  const log = await Deno.readTextFile(`${tmp.path}/eggpool.log`);
  assert.ok(
    log.includes(
      `warning: cannot fetch the model list of provider 'groq': groq-1: ${REJECTED}\n`,
    ),
    log,
  );
  assert.ok(
    log.includes(
      "warning: cannot fetch the model list of provider 'local': local-1: connection refused\n",
    ),
    log,
  );
  assert.ok(
    log.includes(
      "warning: no model list of groq, local was ever fetched; " +
        "only their configured static models are served until a refresh succeeds\n",
    ),
    log,
  );
  assert.ok(!log.includes("serving the last saved list"), log);
  assert.ok(mock.requests.some((r) => r.path.endsWith("/models")), "groq's models were asked for");

  const reason = `no usable model catalog: groq-1: ${REJECTED}; local-1: connection refused`;
  const ready = await fetch(`http://127.0.0.1:${port}/v1/readyz`);
  assert.equal(ready.status, 503);
  assert.ok((await ready.text()).includes(reason));

  const status = await run("runtime-status", "--json");
  assert.equal(status.code, 2, status.stderr);
  const snap = JSON.parse(status.stdout);
  assert.equal(snap.status, "degraded");
  assert.ok(snap.problems.includes(`not ready: ${reason}`), snap.problems);

  const accounts = await run("accounts", "status");
  assert.equal(accounts.code, 0, accounts.stderr);
  assert.match(
    accounts.stdout,
    new RegExp(
      `groq-1: provider=groq[^\\n]*\\n(?:    [^\\n]*\\n)*?    catalog error at \\S+: ` +
        `${REJECTED} \\(never fetched\\)\\n`,
    ),
  );
  assert.match(
    accounts.stdout,
    /local-1: provider=local[^\n]*\n(?: {4}[^\n]*\n)*? {4}catalog error at \S+: connection refused \(never fetched\)\n/,
  );

  // A model the config names for groq answers with groq's problem; an unknown one stays a 404.
  const chat = (model: string) =>
    fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${OPS_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
    });
  const known = await chat("llama-x");
  assert.equal(known.status, 503);
  const body = await known.json();
  assert.equal(
    body.error.message,
    `Model 'llama-x' is unavailable: provider 'groq' has no model list (groq-1: ${REJECTED})`,
  );
  const unknown = await chat("no-such-model");
  assert.equal(unknown.status, 404);
  const missing = (await unknown.json()).error.message as string;
  assert.ok(missing.startsWith("Model 'no-such-model' not found; the model lists of "), missing);
  assert.ok(missing.includes(`provider 'groq' (groq-1: ${REJECTED})`), missing);
  assert.ok(missing.includes("provider 'local' (local-1: connection refused)"), missing);
  assert.ok(missing.endsWith("could not be fetched, so it may be one of theirs"), missing);
});
