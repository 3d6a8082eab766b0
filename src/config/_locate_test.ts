import assert from "node:assert/strict";
import { buildLineLocator } from "./_locate.ts";

const TOML = `# comment
title = "x"

[providers.groq]
id = "groq"
notes = """
[not.a.table]
fake = 1
"""
headers = [
  { name = "a", value = "1" },
  { name = "b", value = "2" },
]

[[providers.groq.accounts]]
name = "one"

[[providers.groq.accounts]]
name = "two"
"api key env" = "X"

[model_overrides."mimo-v2.5"]
protocol = "openai"

[[outer]]
[[outer.inner]]
v = 1
[[outer]]
[[outer.inner]]
v = 2
`;

Deno.test("buildLineLocator() finds keys, array tables and quoted keys", () => {
  const lineOf = buildLineLocator(TOML);
  assert.equal(lineOf(["title"]), 2);
  assert.equal(lineOf(["providers", "groq", "id"]), 5);
  assert.equal(lineOf(["providers", "groq", "accounts", 0, "name"]), 16);
  assert.equal(lineOf(["providers", "groq", "accounts", 1, "name"]), 19);
  assert.equal(lineOf(["providers", "groq", "accounts", 1, "api key env"]), 20);
  assert.equal(lineOf(["model_overrides", "mimo-v2.5", "protocol"]), 23);
  assert.equal(lineOf(["outer", 1, "inner", 0, "v"]), 30);
});

Deno.test("buildLineLocator() skips multi-line strings and locates inline tables in arrays", () => {
  const lineOf = buildLineLocator(TOML);
  assert.equal(lineOf(["not", "a", "table"]), undefined);
  assert.equal(lineOf(["providers", "groq", "headers", 1, "value"]), 12);
  assert.equal(lineOf(["providers", "groq", "missing"]), 4);
});
