import { Command } from "commander";
import { loadConfig } from "../../config/load.ts";
import type { CliContext } from "../context.ts";
import { openMigratedDatabase } from "../_store.ts";

/** `eggpool migrate`: applies pending database migrations; a no-op when up to date. */
export function migrateCommand(ctx: CliContext): Command {
  return new Command("migrate")
    .description("create or upgrade the SQLite database (safe to run again)")
    .action(async () => {
      const loaded = await loadConfig(ctx.configPath().path);
      const { db, applied } = openMigratedDatabase(loaded.config);
      db.close();
      if (applied.length === 0) {
        ctx.io.out(`Database is up to date: ${loaded.config.database.path}\n`);
        return;
      }
      for (const m of applied) ctx.io.out(`Applied ${m.name}\n`);
      ctx.io.out(`Migrations completed successfully: ${loaded.config.database.path}\n`);
    });
}
