import assert from "node:assert/strict";
import { removeOrphans, SocketPairs } from "./half_close.ts";

Deno.test("removeOrphans takes away the relay directories of processes that are gone, only those", () => {
  const root = Deno.makeTempDirSync();
  try {
    // No process has this id (Linux pids stop at 4 194 304).
    for (
      const name of ["eggpool-relay-999999999-ab12", `eggpool-relay-${Deno.pid}-cd34`, "other"]
    ) {
      Deno.mkdirSync(`${root}/${name}`);
      Deno.writeTextFileSync(`${root}/${name}/s`, "");
    }
    Deno.writeTextFileSync(`${root}/eggpool-relay-999999998-file`, "a file, not a relay dir");
    removeOrphans(root);
    assert.deepEqual(
      [...Deno.readDirSync(root)].map((e) => e.name).sort(),
      [
        "eggpool-relay-999999998-file",
        `eggpool-relay-${Deno.pid}-cd34`,
        "other",
      ].sort(),
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("SocketPairs makes connected pairs in a private directory and removes it on close", async () => {
  const root = Deno.makeTempDirSync();
  const before = Deno.env.get("TMPDIR");
  Deno.env.set("TMPDIR", root);
  try {
    Deno.mkdirSync(`${root}/eggpool-relay-999999999-left`);
    const pairs = SocketPairs.open();
    const dirs = [...Deno.readDirSync(root)].map((e) => e.name);
    assert.equal(dirs.length, 1, "the orphan is gone, the new directory is there");
    assert.match(dirs[0], new RegExp(`^eggpool-relay-${Deno.pid}-`));
    assert.equal(Deno.statSync(`${root}/${dirs[0]}`).mode! & 0o777, 0o700);
    const [a, b] = await pairs.pair();
    await a.write(new TextEncoder().encode("ping"));
    const buf = new Uint8Array(4);
    assert.equal(await b.read(buf), 4);
    assert.equal(new TextDecoder().decode(buf), "ping");
    a.close();
    b.close();
    pairs.close();
    assert.deepEqual([...Deno.readDirSync(root)], []);
  } finally {
    if (before === undefined) Deno.env.delete("TMPDIR");
    else Deno.env.set("TMPDIR", before);
    Deno.removeSync(root, { recursive: true });
  }
});
