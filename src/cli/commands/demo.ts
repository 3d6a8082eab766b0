import { Command } from "commander";
import { CliError } from "../../core/errors.ts";
import type { CliContext } from "../context.ts";

interface DemoFlags {
  port?: string;
  traffic: string;
  db?: string;
  printConfig?: boolean;
}

const LEVELS = ["none", "light", "busy"] as const;

const HELP_AFTER = `
The demo runs the real EggPool server (router, stats, dashboard) on 127.0.0.1
against three simulated providers that also listen only on loopback: OpenAI
and Anthropic protocols, six accounts of different weights, one that is
rate-limited now and then (429 with Retry-After), one slow provider, a prompt
cache per account, streaming and tool calls. Its config and database live in
a temporary folder that Ctrl-C (or SIGTERM) removes; the exit code is then 0.

Port: 11300 (EggPool's default) when it is free, else any free port; the
printed settings always name the port in use.

Once it listens it prints the dashboard URL, the local key (new every run) and
blocks for curl, the OpenAI and Anthropic SDKs, Claude Code and OpenCode.

Examples:
  eggpool demo                          light traffic, temporary database
  eggpool demo --traffic busy --port 0  a crowd of simulated agents, any free port
  eggpool demo --db demo.sqlite3        keep the statistics after exit
  eggpool demo --print-config           the generated config, then exit`;

/** Turns the flags into checked options; a bad value is one line and exit 1. */
export function parseDemoFlags(flags: DemoFlags) {
  const traffic = LEVELS.find((level) => level === flags.traffic);
  if (traffic === undefined) {
    throw new CliError(`--traffic must be none, light or busy, not '${flags.traffic}'`);
  }
  let port: number | undefined;
  if (flags.port !== undefined) {
    port = Number(flags.port);
    if (!/^\d+$/.test(flags.port) || port > 65535) {
      throw new CliError(
        `--port must be a number from 0 to 65535 (0: any free port), not '${flags.port}'`,
      );
    }
  }
  return { port, traffic, db: flags.db, printConfig: flags.printConfig === true };
}

/** `eggpool demo`: EggPool against simulated providers, to try it without keys. */
export function demoCommand(ctx: CliContext): Command {
  return new Command("demo")
    .description("try EggPool without keys: simulated providers, traffic and a temporary database")
    .option("--port <port>", "port on 127.0.0.1 (default: 11300 if free, else any free port)")
    .option("--traffic <level>", "simulated agents: none, light or busy", "light")
    .option("--db <path>", "keep the database in this file instead of the temporary folder")
    .option("--print-config", "print the generated config and exit")
    .addHelpText("after", HELP_AFTER)
    .action(async (flags: DemoFlags) => {
      const options = parseDemoFlags(flags);
      // Loaded on use: the simulator has no business in any other command's start-up.
      const { runDemo } = await import("./_demo_run.ts");
      await runDemo(ctx, options);
    });
}
