import { Command } from "commander";
import { loadConfig } from "../../config/load.ts";
import type { CliContext } from "../context.ts";
import { openMigratedDatabase } from "../_store.ts";

/** `eggpool db vacuum`: rebuilds the database file to return free pages to the disk. */
export function dbCommand(ctx: CliContext): Command {
  const db = new Command("db").description("database maintenance");
  db.command("vacuum")
    .description("compact the SQLite database (stop heavy traffic first: it locks the file)")
    .action(async () => {
      const loaded = await loadConfig(ctx.configPath().path);
      const { db } = openMigratedDatabase(loaded.config);
      try {
        const before = db.fileSizes().dbBytes;
        db.vacuum();
        const after = db.fileSizes().dbBytes;
        ctx.io.out(`Database vacuum completed successfully (${before} -> ${after} bytes)\n`);
      } finally {
        db.close();
      }
    });
  return db;
}
