/**
 * How a failed command is reported and which exit code it gets, shared by the
 * full CLI and the fast paths (kept free of the argument parser).
 */
import { CliError, ConfigError } from "../core/errors.ts";

/** Exit code for a command line EggPool cannot understand, or an unexpected failure. */
export const EXIT_USAGE = 2;

/** Writes `error` to `err` and returns the exit code. */
export function reportFailure(error: unknown, err: (text: string) => void): number {
  if (error instanceof ConfigError) {
    err(`Error: ${error.message}\n`);
    return 1;
  }
  if (error instanceof CliError) {
    if (error.message !== "") err(`Error: ${error.message}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.stack ?? error.message : String(error);
  err(`Error: unexpected failure: ${message}\n`);
  return EXIT_USAGE;
}
