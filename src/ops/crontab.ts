/**
 * Managed crontab blocks (spec 07 §4.3): `# BEGIN EggPool <kind> …` to
 * `# END EggPool <kind>`. Installing replaces every block of that kind and
 * appends one after a blank line; removing takes the block and that one
 * blank line, so install + uninstall gives back the original bytes. Lines
 * outside our blocks are never touched. Reads and writes go through the
 * `crontab` command, the only supported way to edit a user's crontab.
 */

/** The block kinds EggPool manages. */
export type CronBlockKind = "watchdog" | "backup";

/** A crontab with a BEGIN marker and no END: we refuse to guess what is ours. */
export class UnterminatedBlockError extends Error {
  constructor(kind: CronBlockKind, line: number) {
    super(
      `the crontab has '# BEGIN EggPool ${kind}' on line ${line} without a matching ` +
        `'# END EggPool ${kind}'; fix it with 'crontab -e' first`,
    );
    this.name = "UnterminatedBlockError";
  }
}

/** Builds a block: markers around `lines`, ending with a newline. */
export function cronBlock(kind: CronBlockKind, command: string, lines: readonly string[]): string {
  return [
    `# BEGIN EggPool ${kind} (managed by eggpool ${command})`,
    ...lines,
    `# END EggPool ${kind}`,
  ].join("\n") + "\n";
}

/** Escapes `%`, which cron turns into a newline in the command field. */
export function cronEscape(command: string): string {
  return command.replaceAll("%", "\\%");
}

function splitKeepingEnds(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** Removes every `kind` block (and the blank line before each); other bytes stay as they were. */
export function removeCronBlocks(text: string, kind: CronBlockKind): string {
  const lines = splitKeepingEnds(text);
  const begin = `# BEGIN EggPool ${kind}`;
  const end = `# END EggPool ${kind}`;
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].trimStart().startsWith(begin)) {
      out.push(lines[i]);
      continue;
    }
    let j = i + 1;
    while (j < lines.length && !lines[j].trimStart().startsWith(end)) j++;
    if (j >= lines.length) throw new UnterminatedBlockError(kind, i + 1);
    if (out.length > 0 && out.at(-1)!.trim() === "") out.pop();
    i = j;
  }
  return out.join("");
}

/** Replaces the `kind` blocks of `text` with `block`, appended after one blank line. */
export function installCronBlock(text: string, kind: CronBlockKind, block: string): string {
  const rest = removeCronBlocks(text, kind);
  if (rest === "") return block;
  return `${rest.endsWith("\n") ? rest : `${rest}\n`}\n${block}`;
}

/** Whether `text` holds a `kind` block. */
export function hasCronBlock(text: string, kind: CronBlockKind): boolean {
  return splitKeepingEnds(text).some((l) => l.trimStart().startsWith(`# BEGIN EggPool ${kind}`));
}

/** `crontab` failed in a way that is not "no crontab yet". */
export class CrontabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CrontabError";
  }
}

function userArgs(user: string | undefined): string[] {
  return user === undefined ? [] : ["-u", user];
}

/** Reads the crontab (`crontab [-u U] -l`); a failure there means "no crontab yet" (spec 07 §4.3). */
export async function readCrontab(user?: string): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("crontab", {
      args: [...userArgs(user), "-l"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CrontabError(
        "the 'crontab' command was not found; install cron (apt-get install cron)",
      );
    }
    throw error;
  }
  return out.success ? new TextDecoder().decode(out.stdout) : "";
}

/** Replaces the crontab with `text` (`crontab [-u U] -`). */
export async function writeCrontab(text: string, user?: string): Promise<void> {
  const child = new Deno.Command("crontab", {
    args: [...userArgs(user), "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  if (!out.success) {
    const why = new TextDecoder().decode(out.stderr).trim();
    throw new CrontabError(`'crontab -' failed (exit ${out.code})${why ? `: ${why}` : ""}`);
  }
}
