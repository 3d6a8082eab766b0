import { Command } from "commander";
import { CliError } from "../../core/errors.ts";
import {
  absolutePath,
  configDir,
  dirName,
  joinPath,
  resolveConfigPath,
} from "../../config/paths.ts";
import type { CliContext } from "../context.ts";
import { isFile } from "../../ops/env.ts";
import exampleConfig from "../../../config.example.toml" with { type: "text" };

/** The bundled example config, embedded so a compiled binary can write it. */
export const EXAMPLE_CONFIG: string = exampleConfig;

/**
 * `eggpool init-config [TARGET] [--force] [--minimal]`: writes a config to
 * start from. Without TARGET it writes where the other commands will look:
 * the resolved config path, or `$XDG_CONFIG_HOME/eggpool/config.toml` when no
 * config exists anywhere yet (a `./config.toml` is only used when it exists).
 */
export function initConfigCommand(ctx: CliContext): Command {
  return new Command("init-config")
    .description(
      "write a config to start from (default: ~/.config/eggpool/config.toml, or the config in use)",
    )
    .argument("[target]", "where to write it")
    .option("-f, --force", "overwrite an existing file")
    .option(
      "--minimal",
      "a short starter (one OpenAI-compatible provider) plus a .env with a new local key",
    )
    .action(async (target: string | undefined, opts: { force?: boolean; minimal?: boolean }) => {
      const path = target === undefined ? defaultTarget(ctx) : absolutePath(target, ctx.env.cwd);
      const force = opts.force === true;
      if (opts.minimal) {
        const envPath = `${dirName(path)}/.env`;
        // Check both first, so a refusal leaves nothing half-written.
        if (!force) {
          for (const p of [path, envPath]) {
            if (await exists(p)) {
              throw new CliError(`"${p}" already exists; use --force to overwrite it`);
            }
          }
        }
        await writePrivate(path, MINIMAL_CONFIG, force);
        await writePrivate(envPath, minimalEnv(newLocalKey()), force);
        ctx.io.out(
          `Config written to ${path}\n` +
            `Local key and provider key template written to ${envPath}\n\n` +
            `Next: put your provider's API key in ${envPath} (GROQ_KEY_1=...), or change the\n` +
            `provider in ${path}, then run:\n` +
            `  eggpool${configFlag(ctx, path)} check-config\n`,
        );
        return;
      }
      await writePrivate(path, EXAMPLE_CONFIG, force);
      ctx.io.out(
        `Config written to ${path}\n\n` +
          "Next: edit it (every section is commented; keys go in a .env file beside it), then run:\n" +
          `  eggpool${configFlag(ctx, path)} check-config\n`,
      );
    });
}

/** Where `init-config` writes without a target. */
function defaultTarget(ctx: CliContext): string {
  const resolved = ctx.configPath();
  if (resolved.source !== "cwd") return resolved.path;
  if (isFile(resolved.path)) return resolved.path;
  return joinPath(configDir(ctx.env), "config.toml");
}

/** ` --config PATH` when the other commands would not find `path` on their own. */
function configFlag(ctx: CliContext, path: string): string {
  const resolved = resolveConfigPath(ctx.env, { exists: (p) => p === path || isFile(p) });
  return resolved.path === path ? "" : ` --config ${path}`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** A fresh local key in the format clients send (`ep_` and 43 URL-safe characters). */
export function newLocalKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const b64 = btoa(String.fromCharCode(...bytes));
  return `ep_${b64.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")}`;
}

/** The `--minimal` starter: everything not written here has a sane default. */
export const MINIMAL_CONFIG =
  `# EggPool starter config, written by \`eggpool init-config --minimal\`.
# Every section and key, with defaults: \`eggpool init-config --force PATH\` writes the
# full commented example. Keys live in the .env file beside this one, never here.

[server]
# 127.0.0.1 serves this machine only; "0.0.0.0" serves your LAN.
host = "127.0.0.1"
port = 11300
# The key clients send (Authorization: Bearer ... or x-api-key); set in .env.
api_key_env = "SERVER_API_KEY"

# One OpenAI-compatible provider. Groq has a free tier; any OpenAI-compatible
# base URL works the same way (a local server too).
[providers.groq]
id = "groq"
base_url = "https://api.groq.com/openai/v1"
protocols = ["openai"]

[[providers.groq.accounts]]
name = "groq-1"
api_key_env = "GROQ_KEY_1"
# More accounts of the same provider: copy the block with another name and variable.
`;

function minimalEnv(localKey: string): string {
  return [
    "# Read by EggPool at startup; variables already set in the environment win.",
    "# The local key clients use to reach EggPool (generated for you):",
    `SERVER_API_KEY=${localKey}`,
    "# Your provider key(s):",
    "GROQ_KEY_1=",
    "",
  ].join("\n");
}

async function writePrivate(path: string, text: string, force: boolean): Promise<void> {
  try {
    await Deno.mkdir(dirName(path), { recursive: true, mode: 0o700 });
  } catch (error) {
    const why = error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new CliError(`cannot create the folder ${dirName(path)} for the config: ${why}`);
  }
  try {
    await Deno.writeTextFile(path, text, { mode: 0o600, createNew: !force });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new CliError(`"${path}" already exists; use --force to overwrite it`);
    }
    if (error instanceof Deno.errors.IsADirectory) {
      throw new CliError(`"${path}" is a directory`);
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      throw new CliError(`cannot write "${path}": permission denied`);
    }
    throw error;
  }
  // `mode` only applies to new files; an overwritten file keeps its old mode otherwise.
  await Deno.chmod(path, 0o600);
}
