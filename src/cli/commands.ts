import type { Command } from "commander";
import type { CliContext } from "./context.ts";
import { versionCommand } from "./commands/version.ts";

/** Every top-level command, in the order `eggpool help` lists them. */
export const COMMANDS: ReadonlyArray<(ctx: CliContext) => Command> = [
  versionCommand,
];
