import assert from "node:assert/strict";
import { filterLog, levelOfLine } from "./log_level.ts";

Deno.test("levelOfLine() gives the server's lines the level an operator expects", () => {
  assert.equal(levelOfLine('access 127.0.0.1 "GET /v1/models" 200 3 ms'), "INFO");
  assert.equal(levelOfLine("Listening on http://127.0.0.1:11300 (pid 7)"), "INFO");
  assert.equal(levelOfLine("warning: cannot fetch the model list of provider 'p': x"), "WARNING");
  assert.equal(
    levelOfLine("Stats write failed, keeping 3 records buffered and retrying: x"),
    "ERROR",
  );
  assert.equal(levelOfLine("Unhandled error: boom"), "ERROR");
  assert.equal(levelOfLine("Account 'a': backoff 429 until 12:00"), "WARNING");
});

Deno.test("filterLog() keeps the lines at or above the level", () => {
  const lines = ["Stopped", "warning: w", "Catalog refresh failed: x"];
  const kept = (level: "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL") => {
    const out: string[] = [];
    const log = filterLog((m) => out.push(m), level);
    for (const l of lines) log(l);
    return out;
  };
  assert.deepEqual(kept("DEBUG"), lines);
  assert.deepEqual(kept("INFO"), lines);
  assert.deepEqual(kept("WARNING"), ["warning: w", "Catalog refresh failed: x"]);
  assert.deepEqual(kept("ERROR"), ["Catalog refresh failed: x"]);
  assert.deepEqual(kept("CRITICAL"), []);
});
