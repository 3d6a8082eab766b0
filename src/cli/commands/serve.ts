import { Command } from "commander";
import { assertCredentials, loadConfig } from "../../config/load.ts";
import { CliError } from "../../core/errors.ts";
import { runServer } from "../../http/serve.ts";
import type { CliContext } from "../context.ts";

/** `eggpool serve`: runs the proxy in the foreground until SIGINT/SIGTERM. */
export function serveCommand(ctx: CliContext): Command {
  return new Command("serve")
    .description("run the proxy, API and dashboard in the foreground")
    .option("--verbose", "accepted for compatibility; serve already runs in the foreground")
    .action(async () => {
      const loaded = await loadConfig(ctx.configPath().path);
      assertCredentials(loaded);
      const accounts = Object.values(loaded.config.providers)
        .reduce((n, p) => n + p.accounts.length, 0);
      if (accounts === 0) {
        ctx.io.err(
          "warning: no upstream accounts are configured; add [[providers.<id>.accounts]] to the config\n",
        );
      }
      try {
        await runServer(loaded, { log: (m) => ctx.io.err(`[eggpool] ${m}\n`) });
      } catch (error) {
        if (error instanceof Deno.errors.AddrInUse) {
          const { host, port } = loaded.config.server;
          throw new CliError(`Cannot listen on ${host}:${port}: the address is already in use`);
        }
        throw error;
      }
    });
}
