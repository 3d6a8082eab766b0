import assert from "node:assert/strict";
import { ArchiveError, extractEntry, readZipEntries, ZipWriter } from "./zip_store.ts";

Deno.test("ZipWriter and readZipEntries() round-trip members across chunk boundaries", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const big = new Uint8Array(200_003).map((_, i) => (i * 31) & 0xff);
    await Deno.writeFile(`${dir}/big.bin`, big);
    const zip = `${dir}/a.zip`;
    const w = await ZipWriter.create(zip, new Date("2026-03-04T05:06:08Z"));
    const small = await w.addBytes("é.txt", new TextEncoder().encode("hello"));
    const large = await w.addFile("big.bin", `${dir}/big.bin`);
    await w.finish();
    assert.equal(small.sha256, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    using file = await Deno.open(zip);
    const entries = await readZipEntries(file);
    assert.deepEqual(entries.map((e) => [e.name, e.size]), [["é.txt", 5], ["big.bin", 200_003]]);
    const out = `${dir}/out.bin`;
    assert.deepEqual(await extractEntry(file, entries[1], out), large);
    assert.deepEqual(await Deno.readFile(out), big);
    const unzip = await new Deno.Command("unzip", { args: ["-tq", zip], stdout: "piped" })
      .output().catch(() => undefined);
    if (unzip !== undefined) assert.equal(unzip.code, 0, "unzip accepts the archive");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readZipEntries() refuses a file that is not a ZIP", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(path, "not a zip archive at all, just some text");
    using file = await Deno.open(path);
    await assert.rejects(readZipEntries(file), ArchiveError);
  } finally {
    await Deno.remove(path);
  }
});
