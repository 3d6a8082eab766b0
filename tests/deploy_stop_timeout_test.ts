/**
 * systemd's stop path (issue #12 item 4): the unit's TimeoutStopSec must
 * outlast the server's shutdown grace plus its close wait and stats flush,
 * or SIGKILL lands before the flush and the last requests' stats are lost.
 */
import assert from "node:assert/strict";
import { runEggpool } from "./_helpers/cli.ts";
import { withTmpDir } from "./_helpers/tmp.ts";
import { freePort, opsEnv, writeServerConfig } from "./_helpers/ops.ts";
import { SHUTDOWN_CLOSE_WAIT_MS } from "../src/http/serve.ts";
import { ServerSchema } from "../src/config/schema_core.ts";

const SHIPPED_UNIT = new URL("../deploy/eggpool.service", import.meta.url);

function timeoutStopSec(unit: string): number {
  const m = unit.match(/^TimeoutStopSec=(\d+)$/m);
  assert.ok(m, unit);
  return Number(m[1]);
}

async function printedUserUnit(graceLine: string): Promise<string> {
  await using tmp = await withTmpDir();
  const config = await writeServerConfig(tmp.path, freePort());
  const text = await Deno.readTextFile(config);
  await Deno.writeTextFile(config, text.replace("[server]\n", `[server]\n${graceLine}\n`));
  const res = await runEggpool(["--config", config, "deploy", "systemd"], {
    cwd: tmp.path,
    env: opsEnv(tmp.path),
  });
  assert.equal(res.code, 0, res.stderr);
  return res.stdout.split("<< 'EGGPOOL_EOF'\n")[1].split("\nEGGPOOL_EOF")[0] + "\n";
}

Deno.test("the user unit's TimeoutStopSec follows [server].shutdown_grace_s with room for the flush", async () => {
  const defaultGrace = ServerSchema.parse({}).shutdown_grace_s;
  const byDefault = timeoutStopSec(await printedUserUnit(""));
  assert.ok(
    byDefault * 1000 > defaultGrace * 1000 + SHUTDOWN_CLOSE_WAIT_MS + 5_000,
    `${byDefault}`,
  );
  const long = timeoutStopSec(await printedUserUnit("shutdown_grace_s = 120"));
  assert.ok(long * 1000 > 120_000 + SHUTDOWN_CLOSE_WAIT_MS + 5_000, `${long}`);
});

Deno.test("the shipped production unit outlasts the default grace, close wait and flush", async () => {
  const unit = await Deno.readTextFile(SHIPPED_UNIT);
  const defaultGrace = ServerSchema.parse({}).shutdown_grace_s;
  assert.ok(
    timeoutStopSec(unit) * 1000 > defaultGrace * 1000 + SHUTDOWN_CLOSE_WAIT_MS + 5_000,
    unit,
  );
  assert.match(unit, /^KillSignal=SIGTERM$/m);
});
