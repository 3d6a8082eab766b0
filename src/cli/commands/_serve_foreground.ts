/**
 * `eggpool serve` in the foreground: the long-running server itself. Shared
 * by the full CLI and the fast path in `main.ts`, which runs a plain `serve`
 * (what `serve --daemon`, `ensure-running` and systemd start) without loading
 * the rest of the CLI: about 4.5 MB less resident memory for the life of the
 * server (issue #3).
 */
import { CliError } from "../../core/errors.ts";
import { runServer } from "../../http/serve.ts";
import { checkRoot, claimPidFile } from "../../ops/guard.ts";
import type { CliContext } from "../context.ts";
import { loadValidConfig, warnWithoutAccounts } from "./_lifecycle.ts";

/** Runs the server until SIGINT/SIGTERM; throws `CliError`/`ConfigError` for the caller to report. */
export async function serveForeground(ctx: CliContext, flags: { asRoot?: boolean }): Promise<void> {
  checkRoot(ctx, flags.asRoot);
  const loaded = await loadValidConfig(ctx);
  warnWithoutAccounts(ctx, loaded);
  const { host, port } = loaded.config.server;
  const log = serverLog(ctx);
  const claim = await claimPidFile(ctx.env, { host, port });
  for (const path of claim.staleCleared) log(`Removed stale PID file ${path}`);
  try {
    await runServer(loaded, { log });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new CliError(`Cannot listen on ${host}:${port}: the address is already in use`);
    }
    throw error;
  } finally {
    claim.release();
  }
}

/** Server log lines on stderr; timestamped when stderr is a file (daemon, systemd without a TTY). */
function serverLog(ctx: CliContext): (message: string) => void {
  const stamp = !Deno.stderr.isTerminal();
  return (m) => ctx.io.err(`${stamp ? `${new Date().toISOString()} ` : ""}[eggpool] ${m}\n`);
}
