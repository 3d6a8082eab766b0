/**
 * Runs the real CLI under a pseudo-terminal (util-linux `script`), so the
 * interactive prompts run as a person sees them. Each answer is typed only
 * once the output shows its prompt, so nothing depends on timing.
 */
import { denoChildEnv } from "./cli.ts";
import { shellLine } from "../../src/ops/launcher.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../../deno.json", import.meta.url).pathname;
const EXIT_MARK = "__EGGPOOL_EXIT__";

/** One answer: type `keys` once `prompt` has appeared in the output. */
export interface PtyAnswer {
  prompt: string;
  keys: string;
}

/** Runs `eggpool ARGS` in a terminal; returns the exit code and everything it drew. */
export async function runEggpoolInPty(
  args: string[],
  options: { cwd: string; env: Record<string, string>; answers: PtyAnswer[] },
): Promise<{ code: number; output: string }> {
  const line = shellLine([
    Deno.execPath(),
    "run",
    "--allow-all",
    `--config=${DENO_JSON}`,
    MAIN,
    ...args,
  ]);
  const child = new Deno.Command("script", {
    // A new pty has no size: without one the prompts wrap after every character.
    // `script` waits for the end of its input even after the program exits, so
    // the shell prints a marker with the exit code and the input is closed then.
    args: ["-qec", `stty cols 200 rows 50; ${line}; echo "${EXIT_MARK}$?"`, "/dev/null"],
    cwd: options.cwd,
    env: {
      ...denoChildEnv(),
      SHELL: "/bin/sh",
      TERM: "xterm",
      NO_COLOR: "1",
      ...options.env,
    },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  let next = 0;
  let closed = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    output += value;
    while (next < options.answers.length && output.includes(options.answers[next].prompt)) {
      await writer.write(new TextEncoder().encode(options.answers[next].keys));
      next++;
    }
    if (!closed && output.includes(EXIT_MARK)) {
      closed = true;
      await writer.close();
    }
  }
  if (!closed) await writer.close();
  await child.stderr.cancel();
  await child.status;
  const code = Number(output.match(new RegExp(`${EXIT_MARK}(\\d+)`))?.[1] ?? -1);
  return { code, output: output.replace(/__EGGPOOL_EXIT__\d+\r?\n?/, "") };
}
