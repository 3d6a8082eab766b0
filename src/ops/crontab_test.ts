import assert from "node:assert/strict";
import {
  cronBlock,
  cronEscape,
  hasCronBlock,
  installCronBlock,
  removeCronBlocks,
  UnterminatedBlockError,
} from "./crontab.ts";

const WATCHDOG = cronBlock("watchdog", "deploy cron", ["@reboot /bin/eggpool ensure-running"]);
const BACKUP = cronBlock("backup", "deploy backup-cron", ["0 2 * * * /bin/eggpool-backup"]);

Deno.test("installCronBlock() then removeCronBlocks() gives back the original bytes", () => {
  for (
    const original of [
      "",
      "A\n",
      "A\n\n",
      "A\n\n\n",
      "# c\r\nMAILTO=x\n\t0 1 * * * job \n",
      "\n",
    ]
  ) {
    const installed = installCronBlock(original, "watchdog", WATCHDOG);
    assert.ok(installed.endsWith(WATCHDOG));
    assert.equal(removeCronBlocks(installed, "watchdog"), original, JSON.stringify(original));
    assert.equal(installCronBlock(installed, "watchdog", WATCHDOG), installed, "idempotent");
  }
});

Deno.test("installCronBlock() separates the block by one blank line and replaces every old copy", () => {
  assert.equal(installCronBlock("A\n", "watchdog", WATCHDOG), `A\n\n${WATCHDOG}`);
  assert.equal(installCronBlock("A", "watchdog", WATCHDOG), `A\n\n${WATCHDOG}`);
  const doubled = `A\n\n${WATCHDOG}B\n\n${WATCHDOG}`;
  assert.equal(installCronBlock(doubled, "watchdog", WATCHDOG), `A\nB\n\n${WATCHDOG}`);
});

Deno.test("removeCronBlocks() only touches blocks of its kind", () => {
  const both = installCronBlock(installCronBlock("A\n", "watchdog", WATCHDOG), "backup", BACKUP);
  assert.ok(hasCronBlock(both, "watchdog") && hasCronBlock(both, "backup"));
  assert.equal(removeCronBlocks(both, "watchdog"), `A\n\n${BACKUP}`);
  assert.equal(removeCronBlocks(removeCronBlocks(both, "watchdog"), "backup"), "A\n");
});

Deno.test("removeCronBlocks() refuses a BEGIN without END", () => {
  const text = "A\n# BEGIN EggPool watchdog (managed by eggpool deploy cron)\n@reboot x\n";
  assert.throws(() => removeCronBlocks(text, "watchdog"), UnterminatedBlockError);
  assert.equal(removeCronBlocks(text, "backup"), text);
});

Deno.test("cronEscape() protects % from cron", () => {
  assert.equal(cronEscape("date +%Y%m%d"), "date +\\%Y\\%m\\%d");
});
