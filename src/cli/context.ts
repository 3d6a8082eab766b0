import type { ConfigSource, PathEnv } from "../config/paths.ts";

/** Where a command writes; tests and the real terminal both implement it. */
export interface CliIo {
  /** Writes text to standard output as given (add your own newline). */
  out(text: string): void;
  /** Writes text to standard error as given (add your own newline). */
  err(text: string): void;
}

/** What every command receives from the CLI shell. */
export interface CliContext {
  io: CliIo;
  env: PathEnv;
  /** The config file this invocation uses, after `--config` and the fallbacks. */
  configPath(): { path: string; source: ConfigSource };
}
