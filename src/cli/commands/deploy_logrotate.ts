import { Command } from "commander";
import { absolutePath, cronLogPath, logFilePath } from "../../config/paths.ts";
import { CliError } from "../../core/errors.ts";
import { PRODUCTION_LOGROTATE, renderPersonalLogrotate } from "../../ops/deploy_files.ts";
import type { CliContext } from "../context.ts";
import { printFileSnippet, resolveTarget, runStep, writeOwnedFile } from "./_deploy.ts";

/** Where logrotate reads package snippets. */
const LOGROTATE_PATH = "/etc/logrotate.d/eggpool";

/** Flags of `deploy logrotate`. */
export interface DeployLogrotateFlags {
  install?: boolean;
  production?: boolean;
  user?: string;
  file?: string;
}

/** The snippet: /var/log/eggpool for --production, else the target user's state-folder logs. */
export function logrotateContent(ctx: CliContext, flags: DeployLogrotateFlags): string {
  if (flags.production) return PRODUCTION_LOGROTATE;
  const target = resolveTarget(ctx, flags.user);
  // Printing must not create folders: assume the state folder will exist.
  const log = logFilePath(target.env, { ensureDir: () => true });
  return renderPersonalLogrotate({
    logFiles: [...new Set([log, cronLogPath(target.env)])],
    user: target.user.name,
    group: target.user.group,
  });
}

/** `deploy logrotate`: print or install the rotation snippet, checked with `logrotate -d`. */
export async function deployLogrotate(ctx: CliContext, flags: DeployLogrotateFlags): Promise<void> {
  const content = logrotateContent(ctx, flags);
  const path = flags.file === undefined ? LOGROTATE_PATH : absolutePath(flags.file, ctx.env.cwd);
  if (!flags.install) {
    printFileSnippet(ctx, {
      title: "logrotate",
      path,
      content,
      sudo: true,
      steps: [`sudo logrotate -d ${path}    # dry run: checks the snippet`],
    });
    return;
  }
  if (flags.file === undefined && ctx.env.uid !== 0) {
    throw new CliError(
      `writing ${LOGROTATE_PATH} needs root: run 'sudo "$(command -v eggpool)" deploy logrotate --install', ` +
        "or 'eggpool deploy logrotate' to print the snippet",
    );
  }
  // logrotate ignores snippets that group or others may write.
  writeOwnedFile(path, content, { mode: 0o644 });
  ctx.io.out(`Wrote ${path}\n`);
  const check = await runStep(ctx, ["logrotate", "-d", path]);
  if (check.missing) {
    ctx.io.err("warning: logrotate is not installed, so the snippet was not checked\n");
  } else if (!check.ok) {
    throw new CliError(`logrotate rejected ${path}:\n${check.output}`);
  } else {
    ctx.io.out("logrotate accepted the snippet.\n");
  }
}

/** Adds `deploy logrotate` to `deploy`. */
export function addDeployLogrotate(deploy: Command, ctx: CliContext): void {
  deploy.command("logrotate")
    .description("print or install log rotation (daily, 14 kept, compressed)")
    .option("--install", `write ${LOGROTATE_PATH} (root) and check it with logrotate -d`)
    .option("--production", "rotate /var/log/eggpool (the dedicated-user layout)")
    .option("--user <name>", "whose logs (default: $SUDO_USER, else you)")
    .option("--file <path>", `install somewhere else than ${LOGROTATE_PATH}`)
    .action((flags: DeployLogrotateFlags) => deployLogrotate(ctx, flags));
}
