/**
 * Shared steps of the lifecycle commands (serve --daemon, restart, rehash):
 * validate the config, start a background server, report it.
 */
import { assertCredentials, loadConfig } from "../../config/load.ts";
import type { LoadedConfig } from "../../config/load.ts";
import type { StartedDaemon } from "../../ops/daemon.ts";
import { startDaemon } from "../../ops/daemon.ts";
import type { CliContext } from "../context.ts";

/** Flags every command that starts a background server accepts. */
export interface StartFlags {
  logFile?: string;
  quiet?: boolean;
  asRoot?: boolean;
}

/** Loads the config and checks its credentials; any problem is thrown as a `ConfigError`. */
export async function loadValidConfig(ctx: CliContext): Promise<LoadedConfig> {
  const loaded = await loadConfig(ctx.configPath().path, { env: (n) => ctx.env.get(n) });
  assertCredentials(loaded);
  return loaded;
}

/** Prints the config's warnings (unknown keys, hard_cap, ...) and warns when no account is configured. */
export function warnWithoutAccounts(ctx: CliContext, loaded: LoadedConfig): void {
  for (const w of loaded.warnings) {
    const where = w.path === "" ? "" : `${w.path}${w.line ? ` (line ${w.line})` : ""}: `;
    ctx.io.err(`warning: ${where}${w.message}\n`);
  }
  const accounts = Object.values(loaded.config.providers)
    .reduce((n, p) => n + p.accounts.length, 0);
  if (accounts === 0) {
    ctx.io.err(
      "warning: no upstream accounts are configured; add [[providers.<id>.accounts]] to the config\n",
    );
  }
}

/** Starts a background server for `loaded` and waits until it is healthy. */
export function startBackground(
  ctx: CliContext,
  loaded: LoadedConfig,
  flags: StartFlags,
): Promise<StartedDaemon> {
  return startDaemon({
    env: ctx.env,
    configPath: loaded.path,
    bind: { host: loaded.config.server.host, port: loaded.config.server.port },
    asRoot: flags.asRoot === true,
    logFile: flags.logFile,
    quiet: flags.quiet,
  });
}

/** Prints where a started server lives and how to check on it. */
export function reportStarted(ctx: CliContext, started: StartedDaemon, verb: string): void {
  ctx.io.out(
    [
      `${verb} eggpool server (PID ${started.pid}), listening on ${started.origin}.`,
      `PID file: ${started.pidFile}`,
      `Log file: ${started.logFile}`,
      "Check it with 'eggpool croncheck' or 'eggpool runtime-status'; stop it with 'eggpool stop'.",
      "",
    ].join("\n"),
  );
}
