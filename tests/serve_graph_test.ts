/**
 * What the server loads (issue #3, memory): the modules a plain `serve`
 * imports, read from `deno info --json`. Importing any `node:` built-in but
 * `node:sqlite` starts Deno's Node.js compatibility layer, which stays
 * resident for the server's whole life, and the CLI framework has no business
 * in the server's heap either.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const SERVE_ENTRY = new URL("src/cli/commands/_serve_foreground.ts", ROOT);

interface InfoDependency {
  specifier: string;
  code?: { specifier: string };
  isDynamic?: boolean;
}
interface InfoModule {
  specifier: string;
  dependencies?: InfoDependency[];
}
interface Info {
  roots: string[];
  modules: InfoModule[];
}

/** Every specifier the serve entry reaches through static, value (not type-only) imports. */
async function staticGraph(entry: URL): Promise<Set<string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry.pathname],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info: Info = JSON.parse(new TextDecoder().decode(out.stdout));
  const byUrl = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const queue = [...info.roots];
  while (queue.length > 0) {
    const url = queue.pop()!;
    if (seen.has(url)) continue;
    seen.add(url);
    for (const dep of byUrl.get(url)?.dependencies ?? []) {
      if (dep.code !== undefined && !dep.isDynamic) queue.push(dep.code.specifier);
    }
  }
  return seen;
}

Deno.test("serve imports no node: built-in but node:sqlite, and not the CLI framework", async () => {
  const graph = await staticGraph(SERVE_ENTRY);
  assert.ok(graph.has("node:sqlite"), "the walk must reach the SQLite store");
  assert.ok(
    [...graph].some((s) => s.endsWith("/src/proxy/handler.ts")),
    "the walk must reach the data plane",
  );
  const builtins = [...graph].filter((s) => s.startsWith("node:") && s !== "node:sqlite");
  assert.deepEqual(builtins, [], "each of these starts Deno's Node.js compatibility layer");
  const cli = [...graph].filter((s) => s.includes("commander") || s.endsWith("/src/cli/mod.ts"));
  assert.deepEqual(cli, []);
});
