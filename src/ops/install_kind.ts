/**
 * How this EggPool was installed, for `update`, `uninstall` and the backup
 * manifest: a compiled binary (`deno compile`), a source checkout
 * (`deno run main.ts`, `deno task install`) or the bundle (`main.js`).
 */
import type { PathEnv } from "../config/paths.ts";
import { dirName } from "../config/paths.ts";

/** The install this process runs from. */
export type InstallKind =
  | { kind: "binary"; path: string }
  | { kind: "source"; dir: string }
  | { kind: "bundle"; dir: string };

/**
 * `$EGGPOOL_BINARY_PATH` names the file `update` and `uninstall` treat as the
 * installed binary even when this process is not compiled: tests point it at
 * a copied script, so the replace and remove paths run without `deno compile`.
 */
export const BINARY_PATH_ENV = "EGGPOOL_BINARY_PATH";

/** Decides the install from the executable and the main module. */
export function detectInstall(env: PathEnv): InstallKind {
  const override = env.get(BINARY_PATH_ENV);
  if (override !== undefined && override !== "") return { kind: "binary", path: override };
  if (Deno.build.standalone) return { kind: "binary", path: Deno.execPath() };
  const main = Deno.mainModule;
  const script = main.startsWith("file:") ? decodeURIComponent(new URL(main).pathname) : main;
  return script.endsWith(".js")
    ? { kind: "bundle", dir: dirName(script) }
    : { kind: "source", dir: dirName(script) };
}

/** The short word the backup manifest records (`install_method`). */
export function installLabel(install: InstallKind): string {
  return install.kind;
}
