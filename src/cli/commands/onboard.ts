import { Command, InvalidArgumentError } from "commander";
import { CliError } from "../../core/errors.ts";
import { configDir, dirName, joinPath, pidFileCandidates } from "../../config/paths.ts";
import { loadConfig, resolveServerApiKey } from "../../config/load.ts";
import { envReferenceName } from "../../config/schema_fields.ts";
import { setValue } from "../../config/toml_edit.ts";
import { DISK_PROBE, isFile } from "../../ops/env.ts";
import { findServer } from "../../ops/pid_file.ts";
import { checkRoot } from "../../ops/guard.ts";
import type { CliContext } from "../context.ts";
import {
  checkFile,
  commitChange,
  describe,
  editFailed,
  readConfigText,
  writeAtomic,
} from "./_config_edit.ts";
import { canPrompt, yesNo } from "./_prompt.ts";
import { connectAccount, type ConnectFlags, withConnectFlags } from "./connect.ts";
import { newLocalKey } from "./init_config.ts";
import { loadValidConfig, reportStarted, startBackground } from "./_lifecycle.ts";
import { serveForeground } from "./_serve_foreground.ts";
import { parsePort } from "./set.ts";

interface OnboardFlags extends ConnectFlags {
  yes?: boolean;
  host?: string;
  port?: number;
  provider?: string;
  daemon?: boolean;
  /** False with `--no-start`. */
  start?: boolean;
}

/** The config `onboard` starts from: the server table only; providers come from connect. */
const STARTER_CONFIG = `# EggPool config, written by \`eggpool onboard\`. Providers are added by
# \`eggpool connect\`; \`eggpool init-config --force PATH\` writes the full commented
# example with every section. Keys live in the .env file beside this one, never here.

[server]
# 127.0.0.1 serves this machine only; "0.0.0.0" serves your LAN (clients then need the key).
host = "127.0.0.1"
port = 11300
# The key clients send (Authorization: Bearer ... or x-api-key); it is set in .env.
api_key_env = "SERVER_API_KEY"
`;

const FLAGS_HINT = "--yes (defaults: loopback, no provider), or --host HOST and " +
  "--provider TEMPLATE with --api-key KEY / --api-key-env VAR";

/**
 * `eggpool onboard` (spec 07 §3): the first-run wizard. Creates the config
 * and the local key when missing, asks LAN or loopback, connects providers,
 * checks the config, then starts the server (or says it already runs). Every
 * question has a flag, so scripts run it without a terminal.
 */
export function onboardCommand(ctx: CliContext): Command {
  return withConnectFlags(
    new Command("onboard")
      .description("first-run setup: config, local key, LAN or loopback, providers, start")
      .option("-y, --yes", "accept the defaults for every question not given by a flag")
      .option("--host <host>", "bind address: 127.0.0.1 (this machine) or 0.0.0.0 (LAN)")
      .option("--port <port>", "port to serve on", (v) => {
        try {
          return parsePort(v);
        } catch (error) {
          throw new InvalidArgumentError((error as Error).message);
        }
      })
      .option("--provider <template>", "connect this provider template (see 'connect list')")
      .option("--daemon", "start the server in the background instead of the foreground")
      .option("--no-start", "do not start the server at the end")
      .option("--as-root", "allow starting the server as root"),
  ).action(async (flags: OnboardFlags) => {
    if (!canPrompt() && !flags.yes && (flags.host === undefined || !flags.provider)) {
      throw new CliError(
        `onboard has questions and there is no terminal to ask on; pass ${FLAGS_HINT}`,
      );
    }
    ctx.io.out("=== EggPool Onboarding ===\n");
    const path = await ensureConfig(ctx);
    await ensureKey(ctx, path);
    await chooseBind(ctx, path, flags);
    const connected = await connectProviders(ctx, flags);
    ctx.io.out(`Connected ${connected} provider(s).\n`);

    const checked = await checkFile(path, (n) => ctx.env.get(n));
    if (checked.issues.length > 0) {
      const lines = checked.issues.map((i) => `  - ${describe(i)}`);
      throw new CliError(["Configuration check failed:", ...lines].join("\n"));
    }
    ctx.io.out(`Configuration is valid: ${path}\n`);
    const state = findServer(pidFileCandidates(ctx.env, DISK_PROBE));
    if (state.running) {
      ctx.io.out(
        "Server is already running. Use 'eggpool restart' to apply configuration changes.\n",
      );
      return;
    }
    if (flags.start === false) {
      ctx.io.out("Start the server with: eggpool serve --daemon\n");
      return;
    }
    checkRoot(ctx, flags.asRoot);
    if (flags.daemon) {
      const loaded = await loadValidConfig(ctx);
      reportStarted(ctx, await startBackground(ctx, loaded, flags), "Started");
      return;
    }
    ctx.io.out("--- Starting Server ---\n");
    await serveForeground(ctx, flags);
  });
}

/** Writes the starter config (and a `.env` with a new key) when no config exists. */
async function ensureConfig(ctx: CliContext): Promise<string> {
  const resolved = ctx.configPath();
  if (isFile(resolved.path)) return resolved.path;
  const path = resolved.source === "cwd"
    ? joinPath(configDir(ctx.env), "config.toml")
    : resolved.path;
  await Deno.mkdir(dirName(path), { recursive: true, mode: 0o700 });
  const envFile = joinPath(dirName(path), ".env");
  let envText = "";
  try {
    envText = await Deno.readTextFile(envFile);
  } catch {
    // None yet.
  }
  if (!/^\s*(export\s+)?SERVER_API_KEY\s*=\s*\S/m.test(envText)) {
    const line = `SERVER_API_KEY=${newLocalKey()}\n`;
    const head = envText === ""
      ? "# Read by EggPool at startup; variables already set in the environment win.\n"
      : envText.endsWith("\n")
      ? envText
      : `${envText}\n`;
    await writeAtomic(envFile, head + line, 0o600);
    ctx.io.out("Generated server API key.\n");
  }
  await writeAtomic(path, STARTER_CONFIG, 0o600);
  ctx.io.out(`Created ${path} (the key is in ${envFile}).\n`);
  return path;
}

/** Generates a local key into `.env` when the config has none. */
async function ensureKey(ctx: CliContext, path: string): Promise<void> {
  const loaded = await loadConfig(path, { env: (n) => ctx.env.get(n) });
  if (resolveServerApiKey(loaded) !== undefined) return;
  const { api_key, api_key_env } = loaded.config.server;
  const name = (api_key && envReferenceName(api_key)) || api_key_env;
  await commitChange(ctx, {
    text: await readConfigText(path),
    env: new Map([[name, newLocalKey()]]),
  });
  ctx.io.out("Generated server API key.\n");
}

async function chooseBind(ctx: CliContext, path: string, flags: OnboardFlags): Promise<void> {
  let host = flags.host;
  if (host === undefined && !flags.yes) {
    const lan = await yesNo("Bind the dashboard/API to the LAN (0.0.0.0)?", {
      what: "the bind address",
      flags: "--host",
    });
    host = lan ? "0.0.0.0" : "127.0.0.1";
  }
  let text = await readConfigText(path);
  const before = text;
  try {
    if (host !== undefined) text = setValue(text, ["server"], "host", host);
    if (flags.port !== undefined) text = setValue(text, ["server"], "port", flags.port);
  } catch (error) {
    editFailed(error);
  }
  if (text === before) return;
  await commitChange(ctx, { text });
  if (host !== undefined) ctx.io.out(`Serving on ${host}.\n`);
}

async function connectProviders(ctx: CliContext, flags: OnboardFlags): Promise<number> {
  if (flags.provider) {
    await connectAccount(ctx, flags.provider, flags);
    return 1;
  }
  if (flags.yes || !canPrompt()) return 0;
  let n = 0;
  // Ctrl-C in a prompt ends the loop with what was connected so far.
  while (
    await yesNo(n === 0 ? "Add a provider?" : "Add another provider?", {
      what: "an answer",
      flags: "--provider",
      initial: n === 0,
    }).catch(() => false)
  ) {
    try {
      await connectAccount(ctx, undefined, flags);
      n++;
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      ctx.io.err(`Error: ${error.message}\n`);
    }
  }
  return n;
}
