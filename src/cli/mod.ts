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
    await program.parseAsync(withoutHelpForUnknownCommand(program, args), { from: "user" });
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

/**
 * `eggpool typo --help` would print the top-level help and exit 0, as if the
 * command existed; without the help flag commander names the unknown command
 * and suggests the closest one, which is what the user needs to read.
 */
function withoutHelpForUnknownCommand(program: Command, args: string[]): string[] {
  let first: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-c" || a === "--config") {
      i++;
      continue;
    }
    if (!a.startsWith("-")) {
      first = a;
      break;
    }
  }
  if (first === undefined) return args;
  const known = program.commands.some((c) => c.name() === first || c.aliases().includes(first));
  if (known || first === "help") return args;
  return args.filter((a) => a !== "--help" && a !== "-h");
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
  // `eggpool help | head`: the reader left, so there is no one to tell; end
  // quietly as a program killed by SIGPIPE would, instead of a stack trace.
  const write = (stream: typeof Deno.stdout, text: string) => {
    const bytes = enc.encode(text);
    try {
      for (let n = 0; n < bytes.length;) n += stream.writeSync(bytes.subarray(n));
    } catch (error) {
      if (error instanceof Deno.errors.BrokenPipe) Deno.exit(0);
      throw error;
    }
  };
  return {
    out: (text) => write(Deno.stdout, text),
    err: (text) => write(Deno.stderr, text),
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
