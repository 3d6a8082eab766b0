import { Command } from "commander";
import { loadConfig, resolveServerApiKey } from "../../config/load.ts";
import { CliError } from "../../core/errors.ts";
import { serverOrigin } from "../../ops/health.ts";
import type { RuntimeSnapshot } from "../../ops/runtime_snapshot.ts";
import type { CliContext } from "../context.ts";
import { formatRuntime } from "./_runtime_format.ts";

/** Spec 07 §2: runtime-status gives the server 5 s. */
const RUNTIME_STATUS_TIMEOUT_MS = 5000;
/** Exit code for a running server that reports problems. */
const EXIT_DEGRADED = 2;

/**
 * `eggpool runtime-status [--json]`: asks the running server for its
 * process, memory, event-loop, task and database figures. Exit 0 healthy,
 * 1 not running / unreachable / HTTP error, 2 degraded.
 */
export function runtimeStatusCommand(ctx: CliContext): Command {
  return new Command("runtime-status")
    .description("show the running server's process, memory, tasks and database figures")
    .option("--json", "print the raw JSON")
    .action(async (flags: { json?: boolean }) => {
      const loaded = await loadConfig(ctx.configPath().path, { env: (n) => ctx.env.get(n) });
      const { host, port } = loaded.config.server;
      const url = `${serverOrigin(host, port)}/api/stats/runtime`;
      const key = resolveServerApiKey(loaded);
      let res: Response;
      try {
        res = await fetch(url, {
          headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
          signal: AbortSignal.timeout(RUNTIME_STATUS_TIMEOUT_MS),
        });
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        throw new CliError(`Cannot reach server at ${url}: ${why}`);
      }
      if (!res.ok) {
        await res.body?.cancel();
        const hint = res.status === 401 ? " (the local API key was not accepted)" : "";
        throw new CliError(`Server returned HTTP ${res.status}${hint}`);
      }
      const snapshot = await res.json() as RuntimeSnapshot;
      ctx.io.out(flags.json ? `${JSON.stringify(snapshot, null, 2)}\n` : formatRuntime(snapshot));
      if (snapshot.status !== "ok") throw new CliError("", EXIT_DEGRADED);
    });
}
