import assert from "node:assert/strict";
import { lossFieldNames } from "./types.ts";
import type { Loss } from "./types.ts";

function losses(...fields: string[]): Loss[] {
  return fields.map((field) => ({ field, kind: "unsupported" }));
}

Deno.test("lossFieldNames() folds indexes so one field counts once per request", () => {
  assert.deepEqual(
    lossFieldNames(
      losses("messages[3].content[1]", "top_p", "messages[5].content[0]", "tools[12].type=x"),
      8,
      64,
    ),
    ["messages[].content[]", "top_p", "tools[].type=x"],
  );
});

Deno.test("lossFieldNames() keeps at most max names, each cut and printable", () => {
  const long = "k".repeat(100);
  assert.deepEqual(lossFieldNames(losses("a", "b", "c", "d"), 2, 64), ["a", "b"]);
  assert.deepEqual(lossFieldNames(losses(long, "réglage\n"), 8, 10), ["kkkkkkkkkk", "r?glage?"]);
  assert.deepEqual(lossFieldNames([], 8, 64), []);
});
