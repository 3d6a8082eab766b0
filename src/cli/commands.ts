import type { Command } from "commander";
import type { CliContext } from "./context.ts";
import { versionCommand } from "./commands/version.ts";
import { serveCommand } from "./commands/serve.ts";
import { checkConfigCommand } from "./commands/check_config.ts";
import { initConfigCommand } from "./commands/init_config.ts";
import { migrateCommand } from "./commands/migrate.ts";
import { dbCommand } from "./commands/db.ts";
import { modelsCommand } from "./commands/models_refresh.ts";
import { accountsCommand } from "./commands/accounts.ts";
import { stopCommand } from "./commands/stop.ts";
import { restartCommand } from "./commands/restart.ts";
import { rehashCommand } from "./commands/rehash.ts";
import { croncheckCommand } from "./commands/croncheck.ts";
import { ensureRunningCommand } from "./commands/ensure_running.ts";
import { runtimeStatusCommand } from "./commands/runtime_status.ts";
import { deployCommand } from "./commands/deploy.ts";
import { demoCommand } from "./commands/demo.ts";
import { backupCommand } from "./commands/backup.ts";
import { recoverCommand } from "./commands/recover.ts";
import { updateCommand } from "./commands/update.ts";
import { uninstallCommand } from "./commands/uninstall.ts";
import { connectCommand } from "./commands/connect.ts";
import { logoutCommand } from "./commands/logout.ts";
import { setCommand } from "./commands/set.ts";
import { getkeyCommand } from "./commands/getkey.ts";
import { newkeyCommand } from "./commands/newkey.ts";
import { dashboardCommand } from "./commands/dashboard_public.ts";
import { configsetupCommand } from "./commands/configsetup.ts";
import { editCommand } from "./commands/edit.ts";
import { onboardCommand } from "./commands/onboard.ts";

/** Every top-level command, in the order `eggpool help` lists them. */
export const COMMANDS: ReadonlyArray<(ctx: CliContext) => Command> = [
  versionCommand,
  serveCommand,
  checkConfigCommand,
  onboardCommand,
  initConfigCommand,
  migrateCommand,
  dbCommand,
  modelsCommand,
  accountsCommand,
  connectCommand,
  logoutCommand,
  setCommand,
  getkeyCommand,
  newkeyCommand,
  dashboardCommand,
  configsetupCommand,
  editCommand,
  stopCommand,
  restartCommand,
  rehashCommand,
  croncheckCommand,
  ensureRunningCommand,
  runtimeStatusCommand,
  deployCommand,
  demoCommand,
  backupCommand,
  recoverCommand,
  updateCommand,
  uninstallCommand,
];
