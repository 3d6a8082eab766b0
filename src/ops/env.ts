/**
 * The real process as a {@linkcode PathEnv}, and the disk probes the path
 * functions need. Kept free of imports beyond `config/paths.ts` so the fast
 * path (croncheck, ensure-running) stays small.
 */
import type { PathEnv, PathProbe } from "../config/paths.ts";

/** The running process's environment, home, working dir and uid. */
export function processPathEnv(): PathEnv {
  return {
    get: (name) => Deno.env.get(name),
    home: Deno.env.get("HOME") ?? "/",
    cwd: Deno.cwd(),
    uid: Deno.uid() ?? 0,
  };
}

/** Creates missing folders (mode 0700) and reports whether the folder is usable. */
export const DISK_PROBE: PathProbe = {
  ensureDir(path) {
    try {
      Deno.mkdirSync(path, { recursive: true, mode: 0o700 });
      return Deno.statSync(path).isDirectory;
    } catch {
      return false;
    }
  },
};

/** True when `path` is an existing folder. */
export function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** True when `path` is an existing regular file. */
export function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** True when anything (a file, folder or link, even a dangling one) is at `path`. */
export function pathExists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** What a root start inside a container prints instead of refusing. */
export const CONTAINER_ROOT_NOTICE =
  "Running as root inside a container (pass --as-root to silence this notice)";

/**
 * True inside a container, where running as root is the norm: Docker leaves
 * `/.dockerenv`; podman, LXC and systemd-nspawn set `container` in the environment.
 */
export function inContainer(
  env: { get(name: string): string | undefined },
  exists: (path: string) => boolean = pathExists,
): boolean {
  const marker = env.get("container");
  return (marker !== undefined && marker !== "") || exists("/.dockerenv");
}
