/** Helpers shared by the `deploy` subcommands: the target user, printing snippets, running steps. */
import { resolveConfigPath } from "../../config/paths.ts";
import type { PathEnv } from "../../config/paths.ts";
import { CliError } from "../../core/errors.ts";
import { isFile } from "../../ops/env.ts";
import type { DeployTarget, UserInfo } from "../../ops/users.ts";
import { deployTarget, targetPathEnv } from "../../ops/users.ts";
import type { CliContext } from "../context.ts";

/** The deploy target plus its path environment and config file. */
export interface ResolvedTarget extends DeployTarget {
  env: PathEnv;
  configPath: string;
}

/** Resolves `--user` / `$SUDO_USER` / the current user, and that user's config path. */
export function resolveTarget(ctx: CliContext, flagUser?: string): ResolvedTarget {
  const target = deployTarget(ctx.env, flagUser);
  if (typeof target === "string") throw new CliError(target);
  const env = targetPathEnv(ctx.env, target);
  const own = ctx.configPath();
  const configPath = !target.other || own.source === "flag" || own.source === "env"
    ? own.path
    : resolveConfigPath(env, { exists: isFile }).path;
  return { ...target, env, configPath };
}

/** Spec 07 §4.3: plain root (no sudo) may not install for another user. */
export function refuseRootForOther(ctx: CliContext, target: ResolvedTarget): void {
  if (ctx.env.uid === 0 && target.other && !target.sudo && target.user.uid !== 0) {
    throw new CliError(
      `refusing to edit ${target.user.name}'s setup as root; run the command as ` +
        `${target.user.name}, or through sudo from that account`,
    );
  }
}

/** What {@linkcode printFileSnippet} shows. */
export interface FileSnippet {
  title: string;
  path: string;
  content: string;
  /** The file lives outside the user's home, so the heredoc needs sudo. */
  sudo: boolean;
  steps: readonly string[];
}

/** Prints a file as a heredoc the user can paste, then the steps that follow. */
export function printFileSnippet(ctx: CliContext, s: FileSnippet): void {
  const dir = s.path.slice(0, s.path.lastIndexOf("/")) || "/";
  const sudo = s.sudo ? "sudo " : "";
  ctx.io.out(
    [
      `== ${s.title} ==`,
      `Install to ${s.path}:`,
      "",
      `${sudo}mkdir -p ${dir}`,
      `${sudo}tee ${s.path} > /dev/null << 'EGGPOOL_EOF'`,
      s.content.trimEnd(),
      "EGGPOOL_EOF",
      "",
      ...(s.steps.length > 0 ? ["Then run:", ...s.steps.map((x) => `  ${x}`), ""] : []),
    ].join("\n") + "\n",
  );
}

/** Writes `content` to `path` (creating folders) with `mode`; owned by `owner` when given. */
export function writeOwnedFile(
  path: string,
  content: string,
  options: { mode: number; owner?: UserInfo },
): void {
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  Deno.mkdirSync(dir, { recursive: true, mode: 0o755 });
  Deno.writeTextFileSync(path, content, { mode: options.mode });
  Deno.chmodSync(path, options.mode);
  if (options.owner !== undefined && Deno.uid() === 0) {
    Deno.chownSync(path, options.owner.uid, options.owner.gid);
  }
}

/** Result of {@linkcode runStep}. */
export interface StepResult {
  ok: boolean;
  missing: boolean;
  output: string;
}

/** Runs one external step (`systemctl …`, `logrotate -d …`), echoing it first. */
export async function runStep(ctx: CliContext, argv: readonly string[]): Promise<StepResult> {
  ctx.io.out(`$ ${argv.join(" ")}\n`);
  try {
    const out = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return {
      ok: out.success,
      missing: false,
      output: (dec.decode(out.stdout) + dec.decode(out.stderr)).trim(),
    };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { ok: false, missing: true, output: "" };
    throw error;
  }
}

/**
 * Runs `steps` in order (all start with the same tool). When the tool is not
 * on PATH, prints the steps for later and returns false; a failing step
 * throws with the steps the user still has to run.
 */
export async function runSteps(ctx: CliContext, steps: readonly string[][]): Promise<boolean> {
  const listing = steps.map((s) => `  ${s.join(" ")}`).join("\n");
  if (!onPath(steps[0][0], ctx.env)) {
    ctx.io.out(`${steps[0][0]} was not found; run these once it is available:\n${listing}\n`);
    return false;
  }
  for (const step of steps) {
    const r = await runStep(ctx, step);
    if (!r.ok) {
      throw new CliError(
        `'${step.join(" ")}' failed${r.output ? `:\n${r.output}` : ""}\n` +
          `Run the remaining steps yourself once that is fixed:\n${listing}`,
      );
    }
  }
  return true;
}

/** True when `name` is an executable on PATH. */
export function onPath(name: string, env: PathEnv): boolean {
  for (const dir of (env.get("PATH") ?? "").split(":")) {
    if (dir !== "" && isFile(`${dir}/${name}`)) return true;
  }
  return false;
}
