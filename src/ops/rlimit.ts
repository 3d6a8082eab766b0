/**
 * The process's open-file limit (RLIMIT_NOFILE), read and raised through
 * libc with Deno's FFI.
 *
 * Every client connection and every upstream connection is a file
 * descriptor. Most distributions start a process with a soft limit of 1 024
 * and a hard limit far above it (524 288 under systemd); the soft limit is
 * what `accept` hits first, so the server raises it to the hard limit at
 * start, which an unprivileged process may do. Where FFI or libc is not
 * there (macOS, Windows, a run without `--allow-ffi`) nothing is raised and
 * the limit is reported as unknown: the connection cap then falls back to a
 * conservative figure.
 */

/** RLIMIT_NOFILE on Linux (x86_64 and aarch64 alike). */
const RLIMIT_NOFILE = 7;

/** A soft and a hard limit; `Infinity` for RLIM_INFINITY. */
export interface FileLimit {
  soft: number;
  hard: number;
}

/** What {@linkcode raiseFileLimit} did, for the start-up log line. */
export interface RaiseResult {
  /** The limits before, or undefined when they could not be read. */
  before?: FileLimit;
  /** The limits now in force, or undefined when they could not be read. */
  after?: FileLimit;
  /** Why nothing was read or raised, when that is the case. */
  reason?: string;
}

/**
 * Most an automatic raise asks for: a hard limit of RLIM_INFINITY or of a
 * million is not a reason to let a Raspberry Pi hold a million sockets.
 */
export const RAISE_CEILING = 65_536;

type Libc = Deno.DynamicLibrary<{
  getrlimit: { parameters: ["i32", "buffer"]; result: "i32" };
  setrlimit: { parameters: ["i32", "buffer"]; result: "i32" };
}>;

function openLibc(): Libc {
  return Deno.dlopen("libc.so.6", {
    getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
    setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  });
}

/** rlim_t is 64 bits on every Linux Deno runs on; all ones is RLIM_INFINITY. */
function toNumber(v: bigint): number {
  return v === 0xffff_ffff_ffff_ffffn ? Infinity : Number(v);
}

function read(lib: Libc): FileLimit | undefined {
  const buf = new BigUint64Array(2);
  if (lib.symbols.getrlimit(RLIMIT_NOFILE, buf) !== 0) return undefined;
  return { soft: toNumber(buf[0]), hard: toNumber(buf[1]) };
}

/** Reads the open-file limit, or undefined where it cannot be read. */
export function readFileLimit(): FileLimit | undefined {
  if (Deno.build.os !== "linux") return undefined;
  let lib: Libc | undefined;
  try {
    lib = openLibc();
    return read(lib);
  } catch {
    return undefined;
  } finally {
    lib?.close();
  }
}

/**
 * Raises the soft open-file limit to the hard limit (at most
 * {@linkcode RAISE_CEILING}); never lowers it and never touches the hard
 * limit.
 */
export function raiseFileLimit(): RaiseResult {
  if (Deno.build.os !== "linux") return { reason: `not supported on ${Deno.build.os}` };
  let lib: Libc | undefined;
  try {
    lib = openLibc();
    const before = read(lib);
    if (!before) return { reason: "getrlimit failed" };
    const target = Math.min(before.hard, Math.max(before.soft, RAISE_CEILING));
    if (target <= before.soft) return { before, after: before };
    const buf = new BigUint64Array([
      BigInt(target),
      before.hard === Infinity ? 0xffff_ffff_ffff_ffffn : BigInt(before.hard),
    ]);
    if (lib.symbols.setrlimit(RLIMIT_NOFILE, buf) !== 0) {
      return { before, after: before, reason: "setrlimit failed" };
    }
    return { before, after: read(lib) ?? before };
  } catch (error) {
    return { reason: error instanceof Error ? error.message : String(error) };
  } finally {
    lib?.close();
  }
}

/**
 * The connection cap used when `[server].max_connections` is not set: what
 * is left of the soft limit after a reserve for the database, logs, the
 * control files and the runtime, divided by the descriptors one proxied
 * request holds (two: the client's and the upstream's; four with the
 * half-close relay). Capped at 4 096, a number a small server's memory holds
 * comfortably; 256 when the limit is unknown.
 */
export function defaultMaxConnections(limit: FileLimit | undefined, perConnection = 2): number {
  if (!limit) return 256;
  const usable = Math.floor((Math.min(limit.soft, 1_000_000) - 64) / perConnection);
  return Math.max(16, Math.min(4096, usable));
}
