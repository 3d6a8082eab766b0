import assert from "node:assert/strict";
import { PRODUCTION_UNIT } from "./deploy_files.ts";
import { productionExec, unreachableReason, withProductionExec } from "./production_exec.ts";

Deno.test("a program the service user cannot reach is named with the folder that blocks it", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.chmod(root, 0o755);
    const open = `${root}/open`;
    const closed = `${root}/closed`;
    await Deno.mkdir(open, { mode: 0o755 });
    await Deno.mkdir(closed);
    await Deno.chmod(open, 0o755);
    await Deno.chmod(closed, 0o700);
    for (const dir of [open, closed]) {
      await Deno.writeTextFile(`${dir}/eggpool`, "#!/bin/sh\n");
      await Deno.chmod(`${dir}/eggpool`, 0o755);
      await Deno.writeTextFile(`${dir}/main.js`, "");
      await Deno.chmod(`${dir}/main.js`, 0o600);
    }
    assert.equal(unreachableReason(`${open}/eggpool`, "exec"), undefined);
    assert.equal(unreachableReason(`${closed}/eggpool`, "exec"), `${closed} is mode 0700`);
    assert.equal(unreachableReason(`${open}/main.js`, "read"), `${open}/main.js is mode 0600`);
    assert.equal(unreachableReason(`${open}/gone`, "exec"), `${open}/gone does not exist`);

    const fine = productionExec([`${open}/eggpool`], "/etc/eggpool/config.toml");
    assert.deepEqual(fine.problems, []);
    assert.equal(fine.execStart, `${open}/eggpool --config /etc/eggpool/config.toml serve`);
    const bundle = productionExec(
      [`${open}/eggpool`, "run", "--allow-all", `${open}/main.js`],
      "/etc/eggpool/config.toml",
    );
    assert.deepEqual(bundle.problems, [
      `the eggpool user cannot use ${open}/main.js: ${open}/main.js is mode 0600`,
    ]);
    const hidden = productionExec([`${closed}/eggpool`], "/etc/eggpool/config.toml");
    assert.deepEqual(hidden.problems, [
      `the eggpool user cannot use ${closed}/eggpool: ${closed} is mode 0700`,
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the production unit runs the given program and opens home folders read-only only when it lives there", () => {
  const opt = productionExec(["/opt/eggpool/eggpool"], "/etc/eggpool/config.toml");
  const unit = withProductionExec(PRODUCTION_UNIT, opt);
  assert.match(
    unit,
    /^ExecStart=\/opt\/eggpool\/eggpool --config \/etc\/eggpool\/config\.toml serve$/m,
  );
  assert.match(unit, /^ProtectHome=yes$/m);
  assert.equal(unit.match(/^ExecStart=/gm)?.length, 1);

  const home = productionExec(["/home/pi/.local/bin/eggpool"], "/etc/eggpool/config.toml");
  assert.equal(home.inHome, true);
  const homeUnit = withProductionExec(PRODUCTION_UNIT, home);
  assert.match(homeUnit, /^ExecStart=\/home\/pi\/\.local\/bin\/eggpool /m);
  assert.match(homeUnit, /^ProtectHome=read-only$/m);
  assert.doesNotMatch(homeUnit, /^ProtectHome=yes$/m);
});
