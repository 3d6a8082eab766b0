import { Command, CommanderError } from "commander";
import { EXIT_USAGE, reportFailure } from "./report.ts";
import { resolveConfigPath } from "../config/paths.ts";
import type { PathEnv } from "../config/paths.ts";
import type { CliContext, CliIo } from "./context.ts";
import { EGGPOOL_VERSION } from "./version.ts";
import { COMMANDS } from "./commands.ts";

/** Options for {@linkcode runCli}; everything has a real-process default. */
export interface RunCliOptions {
  io?: CliIo;
  env?: PathEnv;
}

/** Runs the CLI for `args` (without the program name) and returns the exit code. */
export async function runCli(
  args: string[],
  options: RunCliOptions = {},
): Promise<number> {
  const io = options.io ?? processIo();
  const env = options.env ?? processEnv();
  const program = buildProgram(io, env);
  if (args.length === 0) {
    io.out(program.helpInformation());
    io.out(`${helpFooter(program, env)}\n`);
    return 0;
  }
  try {
    await program.parseAsync(args, { from: "user" });
    return 0;
  } catch (error) {
    return reportError(error, io);
  }
}

function buildProgram(io: CliIo, env: PathEnv): Command {
  const program = new Command("eggpool")
    .description(
      "Pool many LLM provider accounts behind one OpenAI- and Anthropic-compatible endpoint.",
    )
    .option(
      "-c, --config <path>",
      "config file (default: $EGGPOOL_CONFIG, XDG config, ./config.toml)",
    )
    .version(EGGPOOL_VERSION, "-V, --version", "print the version")
    .helpCommand("help [command]", "show help for a command")
    .showSuggestionAfterError(true);
  const ctx: CliContext = {
    io,
    env,
    configPath: () =>
      resolveConfigPath(env, {
        flag: program.opts<{ config?: string }>().config,
        exists: fileExists,
      }),
  };
  for (const make of COMMANDS) program.addCommand(make(ctx));
  program.addHelpText("after", () => helpFooter(program, env));
  applyToAll(program, (cmd) => {
    cmd.exitOverride();
    cmd.configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: (s, write) =>
        write(
          `${s.trimEnd()}\nRun 'eggpool help' to see the commands and flags.\n`,
        ),
    });
    cmd.allowExcessArguments(false);
  });
  return program;
}

function helpFooter(program: Command, env: PathEnv): string {
  const flag = program.opts<{ config?: string }>().config;
  const { path } = resolveConfigPath(env, { flag, exists: fileExists });
  return `\nConfig file: ${path}`;
}

function applyToAll(cmd: Command, fn: (c: Command) => void): void {
  fn(cmd);
  for (const sub of cmd.commands) applyToAll(sub, fn);
}

const HELP_CODES = new Set([
  "commander.helpDisplayed",
  "commander.help",
  "commander.version",
]);

function reportError(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    if (HELP_CODES.has(error.code)) return 0;
    return EXIT_USAGE;
  }
  return reportFailure(error, io.err);
}

function fileExists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function processIo(): CliIo {
  const enc = new TextEncoder();
  return {
    out: (text) => void Deno.stdout.writeSync(enc.encode(text)),
    err: (text) => void Deno.stderr.writeSync(enc.encode(text)),
  };
}

/** The real process environment as a {@linkcode PathEnv}. */
export function processEnv(): PathEnv {
  return {
    get: (name) => Deno.env.get(name),
    home: Deno.env.get("HOME") ?? "/",
    cwd: Deno.cwd(),
    uid: Deno.uid() ?? 0,
  };
}
