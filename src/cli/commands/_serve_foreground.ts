/**
 * `eggpool serve` in the foreground: the long-running server itself. Shared
 * by the full CLI and the fast path in `main.ts`, which runs a plain `serve`
 * (what `serve --daemon`, `ensure-running` and systemd start) without loading
 * the rest of the CLI: about 4.5 MB less resident memory for the life of the
 * server (issue #3).
 */
import { CliError } from "../../core/errors.ts";
import { filterLog } from "../../core/log_level.ts";
import { runServer } from "../../http/serve.ts";
import { checkRoot, claimPidFile } from "../../ops/guard.ts";
import { serverOrigin } from "../../ops/health.ts";
import { resolveServerApiKey } from "../../config/credentials.ts";
import type { LoadedConfig } from "../../config/types.ts";
import type { CliContext } from "../context.ts";
import { loadValidConfig, warnWithoutAccounts } from "./_lifecycle.ts";

/** Runs the server until SIGINT/SIGTERM; throws `CliError`/`ConfigError` for the caller to report. */
export async function serveForeground(ctx: CliContext, flags: { asRoot?: boolean }): Promise<void> {
  checkRoot(ctx, flags.asRoot);
  const loaded = await loadValidConfig(ctx);
  warnWithoutAccounts(ctx, loaded);
  const { host, port } = loaded.config.server;
  const log = filterLog(serverLog(ctx), loaded.config.server.log_level);
  // The guard first: a server of ours on the port is "already running", not "address in use".
  const claim = await claimPidFile(ctx.env, { host, port });
  for (const path of claim.staleCleared) log(`Removed stale PID file ${path}`);
  try {
    checkListen(host, port);
    await runServer(loaded, {
      log,
      onListen: (addr, app) => {
        for (const line of readyLines(loaded, addr.port, app.catalog.size)) log(line);
      },
    });
  } catch (error) {
    // Taken between the check and the real listen.
    if (error instanceof Deno.errors.AddrInUse) throw listenProblem(error, host, port);
    throw error;
  } finally {
    claim.release();
  }
}

/**
 * What an operator wants to see once the server listens: what is ready, where
 * the dashboard is, and whether the API is open to every local program.
 */
export function readyLines(loaded: LoadedConfig, port: number, models: number): string[] {
  const { config } = loaded;
  const providers = Object.values(config.providers);
  const accounts = providers.reduce((n, p) => n + p.accounts.filter((a) => a.enabled).length, 0);
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
  const lines = [
    `Ready: ${plural(providers.length, "provider")}, ${plural(accounts, "account")}, ` +
    `${plural(models, "model")}` +
    (config.dashboard.enabled ? `; dashboard ${serverOrigin(config.server.host, port)}/` : ""),
  ];
  if (resolveServerApiKey(loaded) === undefined) {
    lines.push(
      "No local API key is set: every program on this machine can use the API. " +
        "Set one with [server] api_key_env and the variable in the .env beside the config.",
    );
  }
  return lines;
}

/**
 * Binds the address once and lets go before anything else starts, so a port
 * the server can never use fails in one line that says why, before the
 * database is opened or a PID file written.
 */
function checkListen(host: string, port: number): void {
  let listener: Deno.Listener;
  try {
    listener = Deno.listen({ hostname: host, port });
  } catch (error) {
    throw listenProblem(error, host, port);
  }
  listener.close();
}

/** The operator's one line for an address the server cannot listen on. */
export function listenProblem(error: unknown, host: string, port: number): CliError {
  const where = `cannot listen on ${host}:${port}`;
  if (error instanceof Deno.errors.PermissionDenied && port < 1024) {
    return new CliError(
      `${where}: ports below 1024 need root or CAP_NET_BIND_SERVICE; ` +
        "set [server] port to 1024 or above (the default is 11300)",
    );
  }
  if (error instanceof Deno.errors.AddrInUse) {
    return new CliError(`${where}: the address is already in use`);
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return new CliError(
      `${where}: this machine has no address ${host}; set [server] host to 127.0.0.1, 0.0.0.0 ` +
        "or one of its own addresses",
    );
  }
  return new CliError(`${where}: ${error instanceof Error ? error.message : error}`);
}

/** Server log lines on stderr; timestamped when stderr is a file (daemon, systemd without a TTY). */
function serverLog(ctx: CliContext): (message: string) => void {
  const stamp = !Deno.stderr.isTerminal();
  return (m) => ctx.io.err(`${stamp ? `${new Date().toISOString()} ` : ""}[eggpool] ${m}\n`);
}
