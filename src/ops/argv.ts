/**
 * Recognises the fast-path commands (spec 07 §1) before the full CLI loads:
 * the first token that is not a flag (or `--config`'s value) names the
 * command; the last `--config` / `-c` / `--config=` value wins.
 */

/** Commands served without loading the CLI, config schema, server or database code. */
export type FastCommandName = "croncheck" | "ensure-running";

/** A parsed fast-path invocation. */
export interface FastInvocation {
  command: FastCommandName;
  config?: string;
  /** Every other flag, in order, with `--flag=value` kept as one token. */
  flags: string[];
}

const FAST = new Set<string>(["croncheck", "ensure-running"]);

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
  return command === undefined ? undefined : { command, config, flags };
}
