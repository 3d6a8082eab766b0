/**
 * `deno task compile [--target x86_64|aarch64|all] [--dry-run]`: builds the
 * single-file binaries with the server's V8 flags baked in.
 *
 * One target is enough on a Pi (`--target aarch64`): each target makes
 * `deno compile` fetch a runtime of its own the first time, so building
 * both costs a second download nobody there needs. The default builds both,
 * as a release does. `--dry-run` prints the commands instead of running them.
 *
 * Assets (migrations, themes, static files, the example config) reach the
 * binary through the module graph (text imports), so no `--include` is needed.
 */
import { parseArgs } from "node:util";
import { SERVER_V8_FLAG } from "../src/ops/v8_flags.ts";
import { generateAssets } from "./gen_assets.ts";

/** Architecture name as users know it (`uname -m`) to the Rust target triple `deno compile` takes. */
export const TARGETS: Readonly<Record<string, string>> = {
  x86_64: "x86_64-unknown-linux-gnu",
  aarch64: "aarch64-unknown-linux-gnu",
};
/** Docker's and Debian's names for the same machines. */
const ALIASES: Readonly<Record<string, string>> = {
  amd64: "x86_64",
  arm64: "aarch64",
};

/** The `deno compile` arguments for one architecture, output under `outDir`. */
export function compileArgs(arch: string, outDir = "dist"): string[] {
  return [
    "compile",
    SERVER_V8_FLAG,
    "--allow-all",
    "--target",
    TARGETS[arch],
    "--output",
    `${outDir}/eggpool-${arch}-linux`,
    "main.ts",
  ];
}

function chosen(target: string): string[] {
  const t = ALIASES[target] ?? target;
  if (t === "all") return Object.keys(TARGETS);
  if (t in TARGETS) return [t];
  throw new Error(
    `unknown target "${target}": use ${Object.keys(TARGETS).join(", ")} or all ` +
      "(64-bit Linux only; 32-bit Raspberry Pi OS has no Deno runtime)",
  );
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      target: { type: "string", default: "all" },
      "out-dir": { type: "string", default: "dist" },
      "dry-run": { type: "boolean", default: false },
    },
  });
  let arches: string[];
  try {
    arches = chosen(values.target);
  } catch (error) {
    console.error(`Error: ${(error as Error).message}`);
    Deno.exit(2);
  }
  Deno.chdir(new URL("..", import.meta.url));
  // Assets come from their sources at build time (Chart.js from its pinned package).
  if (!values["dry-run"]) {
    for (const path of generateAssets({ check: false })) console.log(`refreshed ${path}`);
  }
  for (const arch of arches) {
    const args = compileArgs(arch, values["out-dir"]);
    console.log(`deno ${args.join(" ")}`);
    if (values["dry-run"]) continue;
    const { code } = await new Deno.Command(Deno.execPath(), { args }).spawn().status;
    if (code !== 0) Deno.exit(code);
  }
}
