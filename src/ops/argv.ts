/**
 * Recognises the fast-path commands (spec 07 §1) before the full CLI loads:
 * the first token that is not a flag (or `--config`'s value) names the
 * command; the last `--config` / `-c` / `--config=` value wins.
 */

/**
 * Commands served without loading the full CLI: `croncheck` and
 * `ensure-running` also without the config schema, server or database code;
 * `serve` (foreground, with at most `--as-root` and `--verbose`) without the
 * other commands and the argument parser, which would stay resident for the
 * server's whole life.
 */
export type FastCommandName = "croncheck" | "ensure-running" | "serve";

/** A parsed fast-path invocation. */
export interface FastInvocation {
  command: FastCommandName;
  config?: string;
  /** Every other flag, in order, with `--flag=value` kept as one token. */
  flags: string[];
}

const FAST = new Set<string>(["croncheck", "ensure-running", "serve"]);

/** The flags a fast `serve` accepts; anything else (`--daemon`, a typo) goes to the full CLI. */
const FAST_SERVE_FLAGS = new Set(["--as-root", "--verbose"]);

/** Returns the fast-path invocation in `args`, or `undefined` for everything else. */
export function parseFastInvocation(args: readonly string[]): FastInvocation | undefined {
  let command: FastCommandName | undefined;
  let config: string | undefined;
  const flags: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--config" || a === "-c") {
      if (i + 1 >= args.length) return undefined;
      config = args[++i];
    } else if (a.startsWith("--config=")) {
      config = a.slice("--config=".length);
    } else if (a === "-h" || a === "--help") {
      return undefined;
    } else if (a.startsWith("-")) {
      flags.push(a);
    } else if (command === undefined) {
      if (!FAST.has(a)) return undefined;
      command = a as FastCommandName;
    } else {
      flags.push(a);
    }
  }
  if (command === "serve" && flags.some((f) => !FAST_SERVE_FLAGS.has(f))) return undefined;
  return command === undefined ? undefined : { command, config, flags };
}
