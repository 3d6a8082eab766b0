import { Command } from "commander";
import { CliError } from "../../core/errors.ts";
import {
  isLoopbackHost,
  loadConfig,
  type LoadedConfig,
  resolveServerApiKey,
} from "../../config/load.ts";
import { envReferenceName } from "../../config/schema_fields.ts";
import { dirName, joinPath } from "../../config/paths.ts";
import type { CliContext } from "../context.ts";
import { applyToServer, commitChange, readConfigText, writeAtomic } from "./_config_edit.ts";
import { type EggpoolModels, eggpoolModels } from "./_model_listing.ts";
import { newLocalKey } from "./init_config.ts";
import { opencodeBlock } from "./configsetup_opencode.ts";
import { claudeCodeEnv } from "./configsetup_claude.ts";
import { CODEX_KEY_ENV, codexModel, codexToml } from "./configsetup_codex.ts";

/** Flags every `configsetup` client takes. */
export interface SetupFlags {
  print?: boolean;
  host?: string;
  file?: string;
  model?: string;
  smallModel?: string;
  asRoot?: boolean;
}

/** What a client setup needs from EggPool. */
export interface SetupInput {
  loaded: LoadedConfig;
  key: string;
  /** `http://HOST:PORT`, without `/v1`. */
  origin: string;
  models: EggpoolModels;
}

function withSetupFlags(cmd: Command): Command {
  return cmd
    .option("--print", "print what would be written; change nothing")
    .option("--host <host>", "the address clients reach EggPool at (default: from [server].host)")
    .option("--file <path>", "the client's config file (default: where the client reads it)")
    .option("--as-root", "allow restarting the server as root (when a key is generated)");
}

/**
 * `eggpool configsetup opencode|claude-code|codex` (spec 07 §3.1): writes or
 * merges the client's own config file so it talks to EggPool with the local
 * key and knows EggPool's models, after backing the file up.
 */
export function configsetupCommand(ctx: CliContext): Command {
  const setup = new Command("configsetup").description(
    "point a coding agent at EggPool (writes or merges its config file)",
  );
  setup.addCommand(
    withSetupFlags(
      new Command("opencode").description("OpenCode: ~/.config/opencode/opencode.json"),
    )
      .action(async (flags: SetupFlags) => {
        const input = await setupInput(ctx, flags);
        const file = flags.file ?? joinPath(xdgConfig(ctx), "opencode/opencode.json");
        await mergeJson(ctx, file, flags, (doc) => {
          const providers = (doc.provider ??= {}) as Record<string, unknown>;
          providers.eggpool = opencodeBlock(input);
          doc.$schema ??= "https://opencode.ai/config.json";
        });
        report(ctx, input, flags, file, "Then: opencode models eggpool");
      }),
  );
  setup.addCommand(
    withSetupFlags(
      new Command("claude-code").description(
        "Claude Code: the env block of ~/.claude/settings.json",
      ),
    )
      .option("--model <id>", "ANTHROPIC_MODEL (default: a Sonnet, else the first Anthropic model)")
      .option("--small-model <id>", "the small fast model (default: a Haiku, else --model)")
      .action(async (flags: SetupFlags) => {
        const input = await setupInput(ctx, flags);
        const dir = ctx.env.get("CLAUDE_CONFIG_DIR") ?? joinPath(ctx.env.home, ".claude");
        const file = flags.file ?? joinPath(dir, "settings.json");
        const env = claudeCodeEnv(input, flags);
        if (env.ANTHROPIC_MODEL === undefined) {
          ctx.io.err(
            "warning: EggPool serves no model Claude Code can use yet: connect a provider " +
              "(an Anthropic-protocol one, or any with [transcoder] enabled)\n",
          );
        }
        await mergeJson(ctx, file, flags, (doc) => {
          doc.env = { ...(doc.env as Record<string, unknown> ?? {}), ...env };
        });
        report(ctx, input, flags, file, "Then: claude");
      }),
  );
  setup.addCommand(
    withSetupFlags(
      new Command("codex").description(
        "Codex CLI: a model provider in ~/.codex/config.toml (the key stays in EGGPOOL_KEY)",
      ),
    )
      .option("--model <id>", "the model Codex starts with (default: an OpenAI-protocol model)")
      .action(async (flags: SetupFlags) => {
        const input = await setupInput(ctx, flags);
        const home = ctx.env.get("CODEX_HOME") || joinPath(ctx.env.home, ".codex");
        const file = flags.file ?? joinPath(home, "config.toml");
        const model = codexModel(input, flags);
        if (model === undefined) {
          ctx.io.err(
            "warning: EggPool serves no model yet: connect a provider, then run this again\n",
          );
        }
        await mergeText(ctx, file, flags, (old) => {
          try {
            return codexToml(old, input, model);
          } catch (error) {
            throw new CliError(
              `cannot merge into ${file}: ${error instanceof Error ? error.message : error}; ` +
                "run with --print and paste the part EggPool needs by hand",
            );
          }
        });
        report(
          ctx,
          input,
          flags,
          file,
          `Codex reads the key from ${CODEX_KEY_ENV}: export ${CODEX_KEY_ENV}="$(eggpool getkey)", then: codex`,
        );
      }),
  );
  return setup;
}

function report(
  ctx: CliContext,
  input: SetupInput,
  flags: SetupFlags,
  file: string,
  next: string,
): void {
  const n = input.models.items.length;
  const from = input.models.source === "server"
    ? "the running server"
    : "the stored catalog (the server is not running)";
  ctx.io.err(`${n} model${n === 1 ? "" : "s"} from ${from}.\n`);
  if (n === 0) ctx.io.err("Run 'eggpool models refresh' (or start the server) to list models.\n");
  if (!flags.print) ctx.io.out(`Wrote EggPool's settings to ${file}. ${next}\n`);
}

async function setupInput(ctx: CliContext, flags: SetupFlags): Promise<SetupInput> {
  const path = ctx.configPath().path;
  let loaded = await loadConfig(path, { env: (n) => ctx.env.get(n) });
  let key = resolveServerApiKey(loaded);
  if (key === undefined) {
    if (flags.print) {
      throw new CliError("no local API key is configured yet; run 'eggpool newkey' first");
    }
    key = newLocalKey();
    const { api_key, api_key_env } = loaded.config.server;
    const name = (api_key && envReferenceName(api_key)) || api_key_env;
    loaded = await commitChange(ctx, {
      text: await readConfigText(path),
      env: new Map([[name, key]]),
    });
    ctx.io.err("Generated new server API key.\n");
    await applyToServer(ctx, { asRoot: flags.asRoot });
  }
  const host = flags.host ?? clientHost(loaded.config.server.host);
  const origin = `http://${host.includes(":") ? `[${host}]` : host}:${loaded.config.server.port}`;
  return { loaded, key, origin, models: await eggpoolModels(loaded, key) };
}

/** The address a client uses: loopback stays loopback, a wildcard bind becomes the LAN address. */
export function clientHost(bind: string): string {
  if (isLoopbackHost(bind)) return bind === "localhost" ? "127.0.0.1" : bind;
  if (bind !== "0.0.0.0" && bind !== "::" && bind !== "") return bind;
  const lan = Deno.networkInterfaces().find((i) =>
    i.family === "IPv4" && !i.address.startsWith("127.")
  );
  return lan?.address ?? "127.0.0.1";
}

function xdgConfig(ctx: CliContext): string {
  const x = ctx.env.get("XDG_CONFIG_HOME");
  return x !== undefined && x !== "" ? x : joinPath(ctx.env.home, ".config");
}

/**
 * Reads the client's file (or ""), lets `change` return its new text, then
 * prints it (`--print`) or backs the old file up and writes the new one
 * atomically, readable by the user only (it may hold the local key).
 */
async function mergeText(
  ctx: CliContext,
  file: string,
  flags: SetupFlags,
  change: (old: string) => string,
): Promise<void> {
  let old: string | undefined;
  try {
    old = await Deno.readTextFile(file);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new CliError(`cannot read ${file}: ${error instanceof Error ? error.message : error}`);
    }
  }
  const text = change(old ?? "");
  if (flags.print) {
    ctx.io.out(text);
    return;
  }
  await Deno.mkdir(dirName(file), { recursive: true, mode: 0o700 });
  if (old !== undefined) {
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
    const backup = `${file}.bak-${stamp}`;
    await Deno.copyFile(file, backup);
    ctx.io.out(`Backed up ${file} to ${backup}\n`);
  }
  await writeAtomic(file, text, 0o600, true);
}

/** {@linkcode mergeText} for a JSON file: `change` edits the parsed object in place. */
function mergeJson(
  ctx: CliContext,
  file: string,
  flags: SetupFlags,
  change: (doc: Record<string, unknown>) => void,
): Promise<void> {
  return mergeText(ctx, file, flags, (old) => {
    let doc: Record<string, unknown> = {};
    if (old.trim() !== "") {
      try {
        const parsed = JSON.parse(old);
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
          throw new Error();
        }
        doc = parsed;
      } catch {
        throw new CliError(
          `cannot merge into ${file}: it is not plain JSON (comments?); ` +
            "run with --print and paste the part EggPool needs by hand",
        );
      }
    }
    change(doc);
    return `${JSON.stringify(doc, null, 2)}\n`;
  });
}
