import assert from "node:assert/strict";
import { removeOrphans, SocketPairs } from "./half_close.ts";

Deno.test("removeOrphans takes away the relay directories of processes that are gone, only those", async () => {
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
    // A dead-looking PID whose socket still answers (another PID namespace) is kept.
    Deno.mkdirSync(`${root}/eggpool-relay-999999997-ef56`);
    const listening = Deno.listen({
      transport: "unix",
      path: `${root}/eggpool-relay-999999997-ef56/s`,
    });
    await removeOrphans(root);
    listening.close();
    assert.deepEqual(
      [...Deno.readDirSync(root)].map((e) => e.name).sort(),
      [
        "eggpool-relay-999999997-ef56",
        "eggpool-relay-999999998-file",
        `eggpool-relay-${Deno.pid}-cd34`,
        "other",
      ].sort(),
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

async function waitGone(path: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      Deno.statSync(path);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${path} was not removed`);
}

Deno.test("SocketPairs makes connected pairs in a private directory and removes it on close", async () => {
  const root = Deno.makeTempDirSync();
  const before = Deno.env.get("TMPDIR");
  Deno.env.set("TMPDIR", root);
  try {
    Deno.mkdirSync(`${root}/eggpool-relay-999999999-left`);
    const pairs = SocketPairs.open();
    await waitGone(`${root}/eggpool-relay-999999999-left`);
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
