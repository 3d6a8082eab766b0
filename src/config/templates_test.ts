import assert from "node:assert/strict";
import { BUNDLED_TEMPLATES, loadTemplates, parseTemplates } from "./templates.ts";
import { resolveConfig } from "./schema.ts";
import { withTmpDir } from "../../tests/_helpers/tmp.ts";

Deno.test("every bundled template is a provider block the config schema accepts", () => {
  const templates = parseTemplates(BUNDLED_TEMPLATES, "bundled");
  assert.ok(templates.size >= 20, `only ${templates.size} templates`);
  const providers: Record<string, unknown> = {};
  for (const t of templates.values()) {
    assert.ok(["direct", "aggregator", "local"].includes(t.category), t.id);
    assert.ok(["verified", "experimental", "unverified"].includes(t.status), t.id);
    assert.ok(t.notes.length > 0, `${t.id} has notes`);
    assert.match(t.baseUrl, /^https?:\/\//);
    for (const k of ["display_name", "status", "category", "notes", "recommended"]) {
      assert.equal(k in t.block, false, `${t.id}: ${k} stays out of the config block`);
    }
    // A provider needs an account to be valid; connect adds the first one with the block.
    const account = t.authMode === "none"
      ? { name: `${t.id}-0001` }
      : { name: `${t.id}-0001`, api_key_env: "SOME_KEY_1" };
    providers[t.id] = { ...t.block, accounts: [account] };
  }
  const result = resolveConfig({ providers }, { defaultDatabasePath: "/tmp/x.sqlite3" });
  assert.ok(result.ok, JSON.stringify(result.ok ? [] : result.errors));
  assert.equal(templates.get("anthropic")?.authMode, "api_key");
  assert.equal(templates.get("ollama-local")?.category, "local");
  assert.equal(templates.get("ollama-local")?.authMode, "none");
});

Deno.test("loadTemplates() lays an operator's file over the bundled templates", async () => {
  await using tmp = await withTmpDir();
  const path = `${tmp.path}/mine.toml`;
  await Deno.writeTextFile(
    path,
    [
      "[providers.groq]",
      'base_url = "https://groq.example/v1"',
      'display_name = "Groq via our gateway"',
      'status = "experimental"',
      "[providers.inhouse]",
      'id = "inhouse"',
      'base_url = "http://10.0.0.5:8000/v1"',
      'category = "local"',
      'notes = "the lab box"',
      "",
    ].join("\n"),
  );
  const all = await loadTemplates(path);
  assert.equal(all.get("groq")?.baseUrl, "https://groq.example/v1");
  assert.equal(all.get("groq")?.status, "experimental");
  assert.equal(all.get("inhouse")?.notes, "the lab box");
  assert.equal(all.get("openai")?.baseUrl, "https://api.openai.com/v1", "others stay");
  await Deno.writeTextFile(path, '[providers.bad]\nbase_url = "x"\ncategory = "cloud"\n');
  await assert.rejects(() => loadTemplates(path), /category must be one of direct/);
});
