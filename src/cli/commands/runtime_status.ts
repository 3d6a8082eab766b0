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
 * 1 not running / unreachable / HTTP error / unreadable config, 2 degraded.
 * With `--json` every outcome is one JSON object on stdout, so a script can
 * always parse what it gets: the snapshot, or `{"status": "not_running" |
 * "error" | "config_error", ...}`.
 */
export function runtimeStatusCommand(ctx: CliContext): Command {
  return new Command("runtime-status")
    .description("show the running server's process, memory, tasks and database figures")
    .option("--json", "print JSON (also when the server is down: status not_running)")
    .action(async (flags: { json?: boolean }) => {
      const fail = (message: string, json: Record<string, unknown>): never => {
        if (!flags.json) throw new CliError(message);
        ctx.io.out(`${JSON.stringify({ ...json, message }, null, 2)}\n`);
        throw new CliError("", 1);
      };
      let loaded;
      try {
        loaded = await loadConfig(ctx.configPath().path, { env: (n) => ctx.env.get(n) });
      } catch (error) {
        if (!flags.json) throw error;
        return fail(error instanceof Error ? error.message : String(error), {
          status: "config_error",
        });
      }
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
        return fail(`Cannot reach server at ${url}: ${why}`, { status: "not_running", url });
      }
      if (!res.ok) {
        await res.body?.cancel();
        const hint = res.status === 401 ? " (the local API key was not accepted)" : "";
        return fail(`Server returned HTTP ${res.status}${hint}`, {
          status: "error",
          url,
          httpStatus: res.status,
        });
      }
      const snapshot = await res.json() as RuntimeSnapshot;
      ctx.io.out(flags.json ? `${JSON.stringify(snapshot, null, 2)}\n` : formatRuntime(snapshot));
      if (snapshot.status !== "ok") throw new CliError("", EXIT_DEGRADED);
    });
}
