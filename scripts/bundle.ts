/**
 * `deno task bundle`: EggPool as plain JavaScript with no source tree around
 * it, in `dist/bundle/` (run `deno run -A dist/bundle/main.js`). The binary
 * that users install comes from `deno compile`; the bundle proves the module
 * graph is self-contained where `deno compile` cannot fetch its runtime.
 *
 * Two choices keep the cron fast path (`croncheck`, `ensure-running`) cheap,
 * as it is in the compiled binary:
 *
 * - Code splitting: the entry loads the small fast-path chunk, and the CLI,
 *   server, dashboard and SQLite chunks only when a command needs them. A
 *   single file costs 100+ ms to parse and evaluate on every cron run.
 * - The bundler gives every chunk a CommonJS `require` shim built from
 *   `node:module` (commander is CommonJS). Importing `node:module` starts
 *   Deno's Node.js compatibility layer, about 40 ms, even when nothing calls
 *   `require`. This script makes the shim lazy: it asks
 *   `process.getBuiltinModule` on first use. It only does so after checking
 *   that every `require` in the output names a `node:` built-in, the one case
 *   where the two are the same.
 *
 * Usage: deno run -A scripts/bundle.ts [outdir]   (default dist/bundle)
 */

import { generateAssets } from "./gen_assets.ts";

const ROOT = new URL("..", import.meta.url).pathname;

const EAGER_SHIM =
  'import { createRequire as __deno_internal_createRequire } from "node:module";\n' +
  "var __require = __deno_internal_createRequire(import.meta.url);";
const LAZY_SHIM =
  "var __require = (id) => globalThis.process.getBuiltinModule(id); // lazy: see scripts/bundle.ts";

/** Every `__require(` call with its argument text. */
const REQUIRE_CALL = /__require\(([^)]*)\)/g;
const BUILTIN_ARG = /^"node:[a-z_/]+"$/;

/** Bundles main.ts into `outDir` and makes the require shim lazy. Returns the entry path. */
export async function bundle(outDir: string): Promise<string> {
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  const res = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "deno",
      "--code-splitting",
      "--outdir",
      outDir,
      `${ROOT}main.ts`,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!res.success) throw new Error(`deno bundle failed:\n${new TextDecoder().decode(res.stderr)}`);
  let shims = 0;
  for await (const entry of Deno.readDir(outDir)) {
    if (!entry.isFile || !entry.name.endsWith(".js")) continue;
    const path = `${outDir}/${entry.name}`;
    const text = await Deno.readTextFile(path);
    for (const m of text.matchAll(REQUIRE_CALL)) {
      const arg = m[1].trim();
      if (!BUILTIN_ARG.test(arg)) {
        throw new Error(
          `${entry.name} calls __require(${arg}); only node: built-ins can use the lazy shim`,
        );
      }
    }
    if (text.includes(EAGER_SHIM)) {
      await Deno.writeTextFile(path, text.replace(EAGER_SHIM, LAZY_SHIM));
      shims++;
    } else if (text.includes("__deno_internal_createRequire")) {
      throw new Error(`${entry.name}: the bundler's require shim changed shape; update LAZY_SHIM`);
    }
  }
  if (shims > 1) throw new Error(`expected one require shim, found ${shims}`);
  return `${outDir}/main.js`;
}

if (import.meta.main) {
  // Assets come from their sources at build time (Chart.js from its pinned package).
  for (const path of generateAssets({ check: false })) console.log(`refreshed ${path}`);
  const out = Deno.args[0] ?? `${ROOT}dist/bundle`;
  console.log(`wrote ${await bundle(out)}`);
}
