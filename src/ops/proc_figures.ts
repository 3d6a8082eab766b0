/**
 * Process figures the Runtime page shows beside `/api/stats/runtime` (spec
 * 06 §4): open file descriptors, threads and the load average, read from
 * `/proc` on Linux. Elsewhere, or when `/proc` cannot be read, a figure is
 * undefined and the page says "n/a".
 */

/** What {@linkcode procFigures} found; each undefined when unknown. */
export interface ProcFigures {
  openFds?: number;
  /** The soft open-file limit (`Max open files`), Infinity when unlimited. */
  fdLimit?: number;
  threads?: number;
  /** 1, 5 and 15 minute load averages. */
  loadAverage?: readonly [number, number, number];
  /** Logical CPUs, to read the load average against. */
  cpus?: number;
}

/** Where the figures are read; tests point it at a fake `/proc`. */
export interface ProcSource {
  os: string;
  root: string;
}

const LINUX: ProcSource = { os: Deno.build.os, root: "/proc" };

function read(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

function countEntries(path: string): number | undefined {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync(path)) n++;
    return n;
  } catch {
    return undefined;
  }
}

/** The `Threads:` line of `/proc/self/status`. */
export function parseThreads(status: string | undefined): number | undefined {
  const m = status === undefined ? null : /^Threads:\s+(\d+)\s*$/m.exec(status);
  return m === null ? undefined : Number(m[1]);
}

/** The soft limit of the `Max open files` line of `/proc/self/limits`. */
export function parseFdLimit(limits: string | undefined): number | undefined {
  const m = limits === undefined ? null : /^Max open files\s+(\S+)/m.exec(limits);
  if (m === null) return undefined;
  if (m[1] === "unlimited") return Infinity;
  return /^\d+$/.test(m[1]) ? Number(m[1]) : undefined;
}

/** The three averages at the start of `/proc/loadavg`. */
export function parseLoadAverage(
  loadavg: string | undefined,
): readonly [number, number, number] | undefined {
  const parts = loadavg?.trim().split(/\s+/).slice(0, 3).map(Number);
  if (parts === undefined || parts.length < 3 || parts.some((n) => !Number.isFinite(n))) {
    return undefined;
  }
  return [parts[0], parts[1], parts[2]];
}

/** This process's figures now (a directory listing and three small reads on Linux). */
export function procFigures(source: ProcSource = LINUX): ProcFigures {
  const cpus = typeof navigator === "object" ? navigator.hardwareConcurrency : undefined;
  if (source.os !== "linux") return { cpus };
  const self = `${source.root}/self`;
  return {
    openFds: countEntries(`${self}/fd`),
    fdLimit: parseFdLimit(read(`${self}/limits`)),
    threads: parseThreads(read(`${self}/status`)),
    loadAverage: parseLoadAverage(read(`${source.root}/loadavg`)),
    cpus,
  };
}
