/**
 * `[backup]` (spec 02 §12, 05 §6): the running server writes the
 * `eggpool backup` archive on its own schedule, keeps `retain_count` of them,
 * and carries the `.env` only when `include_env` allows it.
 */

import assert from "node:assert/strict";
import { listBackups, verifyBackup } from "../src/ops/backup_archive.ts";
import { startMockUpstream } from "../src/sim/mock_upstream.ts";
import { mockProvidersToml, startEggPool } from "./_helpers/eggpool.ts";
import { withTmpDir } from "./_helpers/tmp.ts";

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const includeEnv of [false, true]) {
  Deno.test(`automatic backups every interval_s, pruned to retain_count, include_env = ${includeEnv}`, async () => {
    await using tmp = await withTmpDir();
    await using mock = await startMockUpstream({ models: ["mock-small"] });
    await Deno.writeTextFile(`${tmp.path}/.env`, "SOME_VAR=1\n");
    const dir = `${tmp.path}/bk`;
    await using pool = await startEggPool({
      dir: tmp.path,
      toml: mockProvidersToml(mock.url) +
        `[backup]\nenabled = true\ninterval_s = 1\nstartup_delay_s = 0\nretain_count = 2\n` +
        `directory = "${dir}"\ninclude_env = ${includeEnv}\n`,
    });
    const written = () => pool.logs.filter((l) => l.startsWith("Automatic backup written: "));
    await until(() => written().length >= 3, "three automatic backups");
    const kept = listBackups(dir);
    assert.equal(kept.length, 2, `pruned to retain_count: ${kept.map((b) => b.name)}`);
    assert.ok(
      written().some((l) => /\(1 older removed, keeping 2\)$/.test(l)),
      written().join("\n"),
    );
    const meta = await verifyBackup(kept[0].path);
    assert.deepEqual(
      meta.members,
      includeEnv ? [".env", "config.toml", "usage.sqlite3"] : ["config.toml", "usage.sqlite3"],
    );
    assert.equal(meta.configPath, `${tmp.path}/config.toml`);
  });
}
