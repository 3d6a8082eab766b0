/**
 * Other EggPool servers on this machine that hold the same database file open
 * (the Runtime page's process-count warning, spec 06 §4 / 07 §2). A second
 * server on one database writes beside this one, keeps its own quota windows
 * and backoffs and splits the traffic's picture in two; the PID file and the
 * start lock cannot catch it when the two were started with different PID
 * files (`EGGPOOL_PID_FILE`) or ports.
 *
 * Found the way `isServerProcess` in pid_file.ts recognises a server: a live
 * process whose argv has a `serve` argument; then its open files are read
 * from `/proc/<pid>/fd` and one must be the database. Processes of other
 * users cannot be read and are not counted. Linux only; elsewhere nothing is
 * found and the page says the count is unknown.
 */

/** What {@linkcode findServersOnDatabase} found. */
export interface ServerProcesses {
  /** Server processes using the database, this one included; undefined when /proc is unreadable. */
  observed?: number;
  /** This process and no other is expected. */
  expected: 1;
  /** PIDs of the other servers, ascending. */
  others: number[];
}

/** Where to look; tests point `root` at a fake `/proc`. */
export interface ProcScanOptions {
  root?: string;
  os?: string;
  selfPid?: number;
}

function argvOf(root: string, pid: string): string[] | undefined {
  try {
    return Deno.readTextFileSync(`${root}/${pid}/cmdline`).split("\0");
  } catch {
    return undefined;
  }
}

function isZombie(root: string, pid: string): boolean {
  try {
    const stat = Deno.readTextFileSync(`${root}/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state === "Z" || state === "X";
  } catch {
    return true;
  }
}

function holdsFile(root: string, pid: string, file: string): boolean {
  let fds: Iterable<Deno.DirEntry>;
  try {
    fds = Deno.readDirSync(`${root}/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      if (Deno.readLinkSync(`${root}/${pid}/fd/${fd.name}`) === file) return true;
    } catch {
      // Closed while we looked.
    }
  }
  return false;
}

/** The database's canonical path (symlinks resolved), as `/proc/<pid>/fd` links name it. */
export function canonicalPath(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

/**
 * Server processes other than this one with `dbPath` open. One directory
 * listing of `/proc` and one small read per process; the open files are
 * listed only for processes whose argv has `serve`.
 */
export function findServersOnDatabase(
  dbPath: string,
  options: ProcScanOptions = {},
): ServerProcesses {
  const root = options.root ?? "/proc";
  const self = String(options.selfPid ?? Deno.pid);
  if ((options.os ?? Deno.build.os) !== "linux" || dbPath === ":memory:") {
    return { expected: 1, others: [] };
  }
  const file = canonicalPath(dbPath);
  let entries: Iterable<Deno.DirEntry>;
  try {
    entries = Deno.readDirSync(root);
  } catch {
    return { expected: 1, others: [] };
  }
  const others: number[] = [];
  for (const e of entries) {
    if (e.name === self || !/^\d+$/.test(e.name)) continue;
    const argv = argvOf(root, e.name);
    if (argv === undefined || !argv.includes("serve") || argv.includes("--daemon")) continue;
    if (isZombie(root, e.name) || !holdsFile(root, e.name, file)) continue;
    others.push(Number(e.name));
  }
  others.sort((a, b) => a - b);
  return { observed: 1 + others.length, expected: 1, others };
}
