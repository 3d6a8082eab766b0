/**
 * The questions `recover` and `uninstall` ask: a yes/no (default No) and a
 * menu, through `@clack/prompts`. The module is imported only when a question
 * is really asked, so the server never loads it. Without a terminal the
 * caller must have a flag instead: asking would hang a script.
 */
import { CliError } from "../../core/errors.ts";

/** True when standard input is a terminal a person can answer on. */
export function canAsk(): boolean {
  return Deno.stdin.isTerminal();
}

/**
 * Asks `question` (default No) unless `yes`; without a terminal and without
 * `yes` it fails with `hint`, the flag to pass. Returns the answer.
 */
export async function confirmOrFlag(
  question: string,
  yes: boolean,
  hint: string,
): Promise<boolean> {
  if (yes) return true;
  if (!canAsk()) throw new CliError(hint);
  const { confirm, isCancel } = await import("@clack/prompts");
  const answer = await confirm({ message: question, initialValue: false });
  return !isCancel(answer) && answer === true;
}

/** Lets the person pick one of `options` (by value); undefined when they cancel. */
export async function choose(
  message: string,
  options: ReadonlyArray<{ value: string; label: string }>,
): Promise<string | undefined> {
  const { select, isCancel } = await import("@clack/prompts");
  const picked = await select({ message, options: [...options] });
  return isCancel(picked) ? undefined : String(picked);
}
