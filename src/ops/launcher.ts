/**
 * Starting EggPool again from inside EggPool: the command line that re-runs
 * this program (compiled binary, `deno run main.ts` or a bundle), and a
 * detached spawn whose output is appended to a log file.
 */

import { withServerV8Flags } from "./v8_flags.ts";

/** Deno flags whose value is a path; made absolute so cron and systemd can run the line. */
const PATH_FLAGS = new Set(["--config", "-c", "--import-map", "--lock", "--env-file"]);

function fromFileUrl(url: string): string {
  return decodeURIComponent(new URL(url).pathname);
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

function absolute(path: string, cwd: string): string {
  return path.startsWith("/") ? path : `${cwd}/${path}`.replace(/\/\.\//g, "/");
}

function readCmdline(): string[] | undefined {
  try {
    const parts = Deno.readTextFileSync("/proc/self/cmdline").split("\0");
    if (parts.at(-1) === "") parts.pop();
    return parts;
  } catch {
    return undefined;
  }
}

/** Makes the values of path-taking Deno flags absolute (`--config=x`, `--config x`). */
function absoluteFlags(flags: string[], cwd: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i];
    const eq = f.indexOf("=");
    if (eq > 0 && PATH_FLAGS.has(f.slice(0, eq))) {
      out.push(`${f.slice(0, eq)}=${absolute(f.slice(eq + 1), cwd)}`);
    } else if (PATH_FLAGS.has(f) && i + 1 < flags.length) {
      out.push(f, absolute(flags[++i], cwd));
    } else {
      out.push(f);
    }
  }
  return out;
}

/**
 * The argv prefix that runs this program again, every path absolute:
 * `[binary]` when compiled, else `[deno, ...deno flags, script]` taken from
 * the process's own command line (so permissions and `--config` carry over),
 * with the server's V8 heap flags added when the line has none (a compiled
 * binary has them built in).
 */
export function launcherArgv(): string[] {
  const exe = Deno.execPath();
  if (Deno.build.standalone) return [exe];
  const main = Deno.mainModule;
  const script = main.startsWith("file:") ? fromFileUrl(main) : main;
  const cmdline = readCmdline();
  if (cmdline !== undefined && cmdline.length > Deno.args.length + 1) {
    const prefix = cmdline.slice(0, cmdline.length - Deno.args.length);
    if (baseName(prefix.at(-1)!) === baseName(script)) {
      const flags = absoluteFlags(prefix.slice(1, -1), Deno.cwd());
      return [exe, ...withServerV8Flags(flags), script];
    }
  }
  return [exe, ...withServerV8Flags(["run", "--allow-all"]), script];
}

/** Quotes `arg` for a POSIX shell line (cron) when it needs quoting. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_/.,:=@%+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Joins an argv into one shell-safe line. */
export function shellLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}

/** Options for {@linkcode spawnDetached}. */
export interface SpawnDetachedOptions {
  /** Appended to; `/dev/null` discards the output. */
  logFile: string;
  cwd?: string;
}

/** A started background process. */
export interface DetachedChild {
  pid: number;
  /** Resolves when the child exits (only observable while this process lives). */
  status: Promise<Deno.CommandStatus>;
}

/** Throws when `path` cannot be opened for appending (spec 07 §1: ensure-running exits 1). */
export function assertAppendable(path: string): void {
  if (path === "/dev/null") return;
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  Deno.openSync(path, { append: true, create: true, mode: 0o600 }).close();
}

/**
 * Spawns `argv` in its own session (`detached` calls setsid), stdin closed,
 * stdout and stderr appended to the log. `/bin/sh` does the redirection and
 * then `exec`s, so the returned PID is the server's own.
 */
export function spawnDetached(
  argv: readonly string[],
  options: SpawnDetachedOptions,
): DetachedChild {
  assertAppendable(options.logFile);
  const viaShell = isExecutable("/bin/sh");
  const cmd = viaShell
    ? new Deno.Command("/bin/sh", {
      args: [
        "-c",
        'log=$1; shift; exec "$@" >>"$log" 2>&1 </dev/null',
        "eggpool",
        options.logFile,
        ...argv,
      ],
      cwd: options.cwd,
      detached: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    })
    : new Deno.Command(argv[0], {
      args: argv.slice(1),
      cwd: options.cwd,
      detached: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    });
  const child = cmd.spawn();
  child.unref();
  return { pid: child.pid, status: child.status };
}

function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o755) & 0o111) !== 0;
  } catch {
    return false;
  }
}
