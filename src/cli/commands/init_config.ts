import { Command } from "commander";
import { CliError } from "../../core/errors.ts";
import { absolutePath, dirName } from "../../config/paths.ts";
import type { CliContext } from "../context.ts";
import exampleConfig from "../../../config.example.toml" with { type: "text" };

/** The bundled example config, embedded so a compiled binary can write it. */
export const EXAMPLE_CONFIG: string = exampleConfig;

/** `eggpool init-config [TARGET] [--force]`: writes the example config. */
export function initConfigCommand(ctx: CliContext): Command {
  return new Command("init-config")
    .description("write the example config file (default: the resolved config path)")
    .argument("[target]", "where to write it")
    .option("-f, --force", "overwrite an existing file")
    .action(async (target: string | undefined, opts: { force?: boolean }) => {
      const path = target === undefined ? ctx.configPath().path : absolutePath(target, ctx.env.cwd);
      await writeExample(path, opts.force === true);
      ctx.io.out(`Config written to ${path}\n`);
    });
}

async function writeExample(path: string, force: boolean): Promise<void> {
  await Deno.mkdir(dirName(path), { recursive: true, mode: 0o700 });
  try {
    await Deno.writeTextFile(path, EXAMPLE_CONFIG, { mode: 0o600, createNew: !force });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new CliError(`"${path}" already exists; use --force to overwrite it`);
    }
    if (error instanceof Deno.errors.IsADirectory) {
      throw new CliError(`"${path}" is a directory`);
    }
    throw error;
  }
  // `mode` only applies to new files; an overwritten file keeps its old mode otherwise.
  await Deno.chmod(path, 0o600);
}
