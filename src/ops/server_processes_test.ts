import assert from "node:assert/strict";
import { findServersOnDatabase } from "./server_processes.ts";

/** A fake `/proc` with one entry per process: argv, state and the files it holds open. */
function fakeProc(
  root: string,
  procs: Record<string, { argv: string[]; state?: string; files: string[] }>,
): void {
  for (const [pid, p] of Object.entries(procs)) {
    Deno.mkdirSync(`${root}/${pid}/fd`, { recursive: true });
    Deno.writeTextFileSync(`${root}/${pid}/cmdline`, p.argv.join("\0") + "\0");
    Deno.writeTextFileSync(`${root}/${pid}/stat`, `${pid} (deno) ${p.state ?? "S"} 1 2 3`);
    p.files.forEach((f, i) => Deno.symlinkSync(f, `${root}/${pid}/fd/${i + 3}`));
  }
}

Deno.test("findServersOnDatabase() counts live serve processes holding the same database", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const db = `${dir}/usage.sqlite3`;
    const other = `${dir}/other.sqlite3`;
    Deno.writeTextFileSync(db, "");
    Deno.writeTextFileSync(other, "");
    const root = `${dir}/proc`;
    const serve = ["deno", "run", "-A", "main.ts", "serve"];
    fakeProc(root, {
      "100": { argv: serve, files: ["/dev/null", db] }, // this process
      "200": { argv: serve, files: [db] }, // a second server: counted
      "300": { argv: serve, files: [other] }, // another database
      "400": { argv: [...serve, "--daemon"], files: [db] }, // a launcher
      "500": { argv: serve, state: "Z", files: [db] }, // a zombie
      "600": { argv: ["deno", "run", "main.ts", "backup"], files: [db] }, // not a server
      "700": { argv: serve, files: [db] }, // a third server
    });
    Deno.writeTextFileSync(`${root}/loadavg`, "0.1 0.2 0.3 1/2 3");
    const found = findServersOnDatabase(db, { root, os: "linux", selfPid: 100 });
    assert.deepEqual(found, { observed: 3, expected: 1, others: [200, 700] });
    const alone = findServersOnDatabase(other, { root, os: "linux", selfPid: 300 });
    assert.deepEqual(alone, { observed: 1, expected: 1, others: [] });
    assert.deepEqual(findServersOnDatabase(db, { root, os: "darwin" }), {
      expected: 1,
      others: [],
    });
    assert.deepEqual(findServersOnDatabase(db, { root: `${dir}/none`, os: "linux" }), {
      expected: 1,
      others: [],
    });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
