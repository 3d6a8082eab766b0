import assert from "node:assert/strict";
import { parseFdLimit, parseLoadAverage, parseThreads, procFigures } from "./proc_figures.ts";

Deno.test("procFigures reads fds, threads, the fd limit and the load average from a /proc tree", async () => {
  const root = await Deno.makeTempDir({ prefix: "eggpool-proc-" });
  try {
    await Deno.mkdir(`${root}/self/fd`, { recursive: true });
    for (const fd of ["0", "1", "2", "7"]) await Deno.writeTextFile(`${root}/self/fd/${fd}`, "");
    await Deno.writeTextFile(`${root}/self/status`, "Name:\tdeno\nThreads:\t9\nVmRSS:\t1 kB\n");
    await Deno.writeTextFile(
      `${root}/self/limits`,
      "Limit                     Soft Limit           Hard Limit           Units\n" +
        "Max open files            65536                524288               files\n",
    );
    await Deno.writeTextFile(`${root}/loadavg`, "0.52 1.05 2.50 3/812 4242\n");
    const f = procFigures({ os: "linux", root });
    assert.equal(f.openFds, 4);
    assert.equal(f.threads, 9);
    assert.equal(f.fdLimit, 65536);
    assert.deepEqual(f.loadAverage, [0.52, 1.05, 2.5]);
    // A tree missing its files gives unknowns, not an error.
    await Deno.remove(`${root}/self`, { recursive: true });
    await Deno.remove(`${root}/loadavg`);
    const none = procFigures({ os: "linux", root });
    assert.deepEqual([none.openFds, none.threads, none.fdLimit, none.loadAverage], [
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("procFigures reports nothing but the CPU count outside Linux", () => {
  const f = procFigures({ os: "windows", root: "/proc" });
  assert.deepEqual(Object.keys(f), ["cpus"]);
  assert.equal(f.cpus, navigator.hardwareConcurrency);
});

Deno.test("the /proc parsers refuse what they do not recognise", () => {
  assert.equal(parseThreads("Threads:\tmany\n"), undefined);
  assert.equal(
    parseFdLimit("Max open files            unlimited            unlimited\n"),
    Infinity,
  );
  assert.equal(parseFdLimit("Max processes 100 100\n"), undefined);
  assert.equal(parseLoadAverage("0.1 x 0.3"), undefined);
  assert.equal(parseLoadAverage(""), undefined);
});
