/**
 * `croncheck` and `ensure-running` (spec 07 §1): PID-file logic only, no
 * config parsing, no network. Cron runs these every few minutes on a Pi,
 * so this module must stay free of the CLI, schema, server and database code.
 * A plain foreground `serve` also starts here; its code is imported only
 * when it runs.
 */
import { pidFileCandidates, resolveConfigPath } from "../config/paths.ts";
import type { PathEnv } from "../config/paths.ts";
import type { FastInvocation } from "./argv.ts";
import { CONTAINER_ROOT_NOTICE, DISK_PROBE, inContainer, isFile, processPathEnv } from "./env.ts";
import { findServer } from "./pid_file.ts";
import { startDetachedServer } from "./start.ts";
import { serverOrigin } from "./health.ts";
import { awaitHealthy } from "./ready_wait.ts";
import { EXIT_USAGE, reportFailure } from "../cli/report.ts";

/** Where fast commands write; the real process or a test capture. */
export interface FastIo {
  out(text: string): void;
  err(text: string): void;
}

/** Runs a fast-path command and returns its exit code. */
export async function runFast(
  inv: FastInvocation,
  io: FastIo = processIo(),
  env: PathEnv = processPathEnv(),
): Promise<number> {
  switch (inv.command) {
    case "croncheck":
      return croncheck(inv, io, env);
    case "ensure-running":
      return await ensureRunning(inv, io, env);
    case "serve":
      return await serve(inv, io, env);
  }
}

async function serve(inv: FastInvocation, io: FastIo, env: PathEnv): Promise<number> {
  const { serveForeground } = await import("../cli/commands/_serve_foreground.ts");
  try {
    await serveForeground({
      io,
      env,
      configPath: () => resolveConfigPath(env, { flag: inv.config, exists: isFile }),
    }, { asRoot: inv.flags.includes("--as-root") });
    return 0;
  } catch (error) {
    return reportFailure(error, io.err);
  }
}

function croncheck(inv: FastInvocation, io: FastIo, env: PathEnv): number {
  const unknown = inv.flags.find((f) => f !== "-q" && f !== "--quiet");
  if (unknown !== undefined) return usage(io, "croncheck", unknown);
  const state = findServer(pidFileCandidates(env, DISK_PROBE));
  if (inv.flags.length === 0) {
    io.out(state.running ? `Server is running (PID ${state.pid}).\n` : "Server is not running.\n");
  }
  return state.running ? 0 : 1;
}

interface EnsureFlags {
  asRoot: boolean;
  logFile?: string;
}

function parseEnsureFlags(flags: readonly string[]): EnsureFlags | string {
  const out: EnsureFlags = { asRoot: false };
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i];
    if (f === "--as-root") out.asRoot = true;
    else if (f === "--log-file" && i + 1 < flags.length) out.logFile = flags[++i];
    else if (f.startsWith("--log-file=")) out.logFile = f.slice("--log-file=".length);
    else return f;
  }
  return out;
}

async function ensureRunning(inv: FastInvocation, io: FastIo, env: PathEnv): Promise<number> {
  const flags = parseEnsureFlags(inv.flags);
  if (typeof flags === "string") return usage(io, "ensure-running", flags);
  const candidates = pidFileCandidates(env, DISK_PROBE);
  if (findServer(candidates).running) return 0;
  if (env.uid === 0 && !flags.asRoot) {
    if (!inContainer(env)) {
      io.err(
        "Error: refusing to run as root for personal deployment; pass --as-root to allow it\n",
      );
      return 1;
    }
    io.err(`${CONTAINER_ROOT_NOTICE}\n`);
  }
  const config = resolveConfigPath(env, { flag: inv.config, exists: isFile }).path;
  try {
    const result = await startDetachedServer({
      env,
      configPath: config,
      asRoot: flags.asRoot,
      logFile: flags.logFile,
    });
    if (result.kind === "started") {
      // Cron mails what this prints: "Started" must mean the server answers.
      const origin = await configuredOrigin(config);
      const failure = await awaitHealthy(result, origin, ENSURE_READY_TIMEOUT_MS);
      if (failure !== undefined) {
        io.err(`Error: cannot start the server: ${failure}\n`);
        return 1;
      }
      io.out(
        `${new Date().toISOString()} Started eggpool server (PID ${result.pid}); ` +
          `log: ${result.logFile}\n`,
      );
    }
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.err(`Error: cannot start the server: ${message}\n`);
    return 1;
  }
}

/** As `serve --daemon` waits: startup may fetch every provider's model list. */
const ENSURE_READY_TIMEOUT_MS = 20_000;
/** `[server]` defaults (spec 02 §1), repeated here so the fast path needs no schema. */
const DEFAULT_HOST = "127.0.0.1";
const DEFAULT_PORT = 11300;

/**
 * Where the started server will listen, read from the config's `[server]`
 * table with the TOML parser alone. A config that cannot be read gives the
 * defaults: the child then fails on it, and its log says why.
 */
async function configuredOrigin(configPath: string): Promise<string> {
  let host = DEFAULT_HOST;
  let port = DEFAULT_PORT;
  try {
    const { parse } = await import("smol-toml");
    const server = (parse(await Deno.readTextFile(configPath)) as Record<string, unknown>).server;
    if (typeof server === "object" && server !== null) {
      const s = server as Record<string, unknown>;
      if (typeof s.host === "string") host = s.host;
      if (typeof s.port === "number" && Number.isInteger(s.port)) port = s.port;
    }
  } catch {
    // The child reports the broken config in its log.
  }
  return serverOrigin(host, port);
}

function usage(io: FastIo, command: string, token: string): number {
  io.err(`error: unknown option '${token}' for '${command}'\n`);
  io.err("Run 'eggpool help' to see the commands and flags.\n");
  return EXIT_USAGE;
}

function processIo(): FastIo {
  const enc = new TextEncoder();
  return {
    out: (text) => void Deno.stdout.writeSync(enc.encode(text)),
    err: (text) => void Deno.stderr.writeSync(enc.encode(text)),
  };
}
