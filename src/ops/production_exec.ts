/**
 * The program line of the production unit: the path of the program that is
 * running now (a compiled binary, or Deno plus the bundle or checkout), so the
 * unit starts what the operator installed wherever it lives, and the checks
 * that the service's own user can reach it.
 */
import { systemdQuote } from "./deploy_files.ts";

/** Folders that `ProtectHome=yes` hides from the service. */
const HOME_ROOTS = ["/home/", "/root/", "/run/user/"];

/** True when `path` is under a folder `ProtectHome=yes` hides. */
export function underHome(path: string): boolean {
  return HOME_ROOTS.some((root) => path.startsWith(root));
}

/** The absolute paths in a launcher argv: the program and, for Deno, the script. */
export function launcherPaths(launcher: readonly string[]): string[] {
  return launcher.filter((arg, i) => i === 0 || (arg.startsWith("/") && !arg.startsWith("-")));
}

/**
 * Why a user that is neither the owner nor in the group (the `eggpool`
 * system user) cannot use `path`, or undefined when it can: every folder on
 * the way needs the others' search bit, the file the others' read bit (a
 * script) or execute bit (a program).
 */
export function unreachableReason(path: string, need: "read" | "exec"): string | undefined {
  const parts = path.split("/").filter((p) => p !== "");
  let dir = "";
  for (const part of parts.slice(0, -1)) {
    dir += `/${part}`;
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(dir);
    } catch {
      return `${dir} cannot be read`;
    }
    const mode = info.mode ?? 0o755;
    if ((mode & 0o001) === 0) {
      return `${dir} is mode ${(mode & 0o777).toString(8).padStart(4, "0")}`;
    }
  }
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch {
    return `${path} does not exist`;
  }
  const mode = info.mode ?? 0o755;
  const bit = need === "exec" ? 0o001 : 0o004;
  if ((mode & bit) === 0) {
    return `${path} is mode ${(mode & 0o777).toString(8).padStart(4, "0")}`;
  }
  return undefined;
}

/** What {@linkcode productionExec} decided. */
export interface ProductionExec {
  /** The program and its arguments up to the command (`--config PATH`). */
  argv: string[];
  /** The `ExecStart=` value. */
  execStart: string;
  /** True when the program lives under /home, /root or /run/user. */
  inHome: boolean;
  /** Problems that would stop the `eggpool` user from starting it, one line each. */
  problems: string[];
}

/** The production unit's program line for `launcher` (see {@linkcode launcherArgv}). */
export function productionExec(launcher: readonly string[], configPath: string): ProductionExec {
  const paths = launcherPaths(launcher);
  const problems: string[] = [];
  paths.forEach((p, i) => {
    const why = unreachableReason(p, i === 0 ? "exec" : "read");
    if (why !== undefined) problems.push(`the eggpool user cannot use ${p}: ${why}`);
  });
  const argv = [...launcher, "--config", configPath];
  return {
    argv,
    execStart: [...argv, "serve"].map(systemdQuote).join(" "),
    inHome: paths.some(underHome),
    problems,
  };
}

/**
 * deploy/eggpool.service with `ExecStart` running `exec`. A program under a
 * home folder needs `ProtectHome=read-only` instead of `yes`, or systemd hides
 * it from the service.
 */
export function withProductionExec(unit: string, exec: ProductionExec): string {
  let out = unit.replace(/^ExecStart=.*$/m, `ExecStart=${exec.execStart}`);
  if (exec.inHome) {
    out = out.replace(
      /^ProtectHome=yes$/m,
      "# The program lives under a home folder, which the service must be able to read.\n" +
        "ProtectHome=read-only",
    );
  }
  return out;
}
