/**
 * The first step of `deno task test`: installs what the tests run besides
 * Deno, when it is missing, so a fresh clone needs no other command.
 *
 * Today that is the coding-agent CLIs of tests/agents_cli_test.ts (Claude
 * Code, OpenCode, Codex), pinned, from the npm registry (their native
 * binaries are npm packages too) into `.ci/agents/` (gitignored). They are
 * installed once (about 0.9 GB, a minute or two) and reinstalled only when
 * the pins below change. Debian's chromium for the browser tests needs root
 * and stays with `.ci/run`.
 */

const ROOT = new URL("..", import.meta.url).pathname;
const DIR = `${ROOT}.ci/agents`;

/** The agent CLIs the tests run, pinned. */
export const AGENT_PACKAGES = [
  "@anthropic-ai/claude-code@2.1.332",
  "opencode-ai@1.18.33",
  "@openai/codex@0.171.0",
];

const stamp = AGENT_PACKAGES.join(" ");
let current: string | undefined;
try {
  current = (await Deno.readTextFile(`${DIR}/.pinned`)).trim();
} catch {
  current = undefined;
}
if (current !== stamp) {
  console.error(`installing the agent CLIs for tests/agents_cli_test.ts once: ${stamp}`);
  await Deno.mkdir(DIR, { recursive: true });
  let ok = false;
  try {
    const out = await new Deno.Command("npm", {
      args: [
        "install",
        "--prefix",
        DIR,
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        ...AGENT_PACKAGES,
      ],
      stdout: "null",
      stderr: "inherit",
    }).output();
    ok = out.success;
  } catch (error) {
    console.error(`npm could not run (${error instanceof Error ? error.message : error})`);
  }
  if (ok) {
    await Deno.writeTextFile(`${DIR}/.pinned`, `${stamp}\n`);
  } else {
    // Not fatal here: tests/agents_cli_test.ts then fails with a line saying what is missing.
    console.error("could not install the agent CLIs; tests/agents_cli_test.ts will fail saying so");
  }
}
