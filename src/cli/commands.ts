import type { Command } from "commander";
import type { CliContext } from "./context.ts";
import { versionCommand } from "./commands/version.ts";
import { serveCommand } from "./commands/serve.ts";
import { checkConfigCommand } from "./commands/check_config.ts";
import { initConfigCommand } from "./commands/init_config.ts";
import { migrateCommand } from "./commands/migrate.ts";
import { dbCommand } from "./commands/db.ts";

/** Every top-level command, in the order `eggpool help` lists them. */
export const COMMANDS: ReadonlyArray<(ctx: CliContext) => Command> = [
  versionCommand,
  serveCommand,
  checkConfigCommand,
  initConfigCommand,
  migrateCommand,
  dbCommand,
];
