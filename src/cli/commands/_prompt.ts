/**
 * Interactive questions for the config commands, through `@clack/prompts`.
 * Every question has a flag; without a terminal a missing answer is an error
 * that names the flag, never a wait on stdin.
 */
import * as clack from "@clack/prompts";
import { CliError } from "../../core/errors.ts";

/** True when both stdin and stdout are a terminal (someone can answer). */
export function canPrompt(): boolean {
  return Deno.stdin.isTerminal() && Deno.stdout.isTerminal();
}

/** Fails when no one can answer: `what` is needed and `flags` would give it. */
export function requirePrompt(what: string, flags: string): void {
  if (!canPrompt()) {
    throw new CliError(`${what} is needed and there is no terminal to ask on; pass ${flags}`);
  }
}

function answered<T>(value: T | symbol): T {
  if (typeof value === "symbol") throw new CliError("Aborted.");
  return value;
}

/** One choice from `options`; `what` and `flags` say how to give it without a terminal. */
export async function choose<T extends string>(
  message: string,
  options: { value: T; label: string; hint?: string }[],
  need: { what: string; flags: string },
): Promise<T> {
  requirePrompt(need.what, need.flags);
  // deno-lint-ignore no-explicit-any -- clack's Option<T> type is a conditional union
  return answered<T>(await clack.select<T>({ message, options: options as any }));
}

/** A line of text, with a default. */
export async function ask(
  message: string,
  need: { what: string; flags: string; initial?: string },
): Promise<string> {
  requirePrompt(need.what, need.flags);
  return answered<string>(
    // The default shows as a placeholder: Enter takes it, typing replaces it.
    await clack.text({ message, placeholder: need.initial, defaultValue: need.initial }),
  );
}

/** A secret, not echoed. */
export async function askSecret(
  message: string,
  need: { what: string; flags: string },
): Promise<string> {
  requirePrompt(need.what, need.flags);
  return answered<string>(await clack.password({ message }));
}

/** A yes/no question. */
export async function yesNo(
  message: string,
  need: { what: string; flags: string; initial?: boolean },
): Promise<boolean> {
  requirePrompt(need.what, need.flags);
  return answered<boolean>(await clack.confirm({ message, initialValue: need.initial ?? false }));
}
