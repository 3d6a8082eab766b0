import { Command } from "commander";
import { CliError } from "../../core/errors.ts";
import { loadTemplates, type ProviderTemplate } from "../../config/templates.ts";
import { appendArrayTable, appendTable, type TomlTable } from "../../config/toml_edit.ts";
import type { CliContext } from "../context.ts";
import {
  type ApplyFlags,
  applyToServer,
  commitChange,
  editFailed,
  envFileOf,
  envVars,
  readConfigText,
  readEnvText,
  withApplyFlags,
} from "./_config_edit.ts";
import { verifyOrRefuse } from "./_connect_verify.ts";
import { ask, askSecret, choose } from "./_prompt.ts";
import { byCategory, renderTemplateList } from "./connect_list.ts";
import { readProviders } from "./_config_view.ts";
import {
  configuredTemplate,
  nextAccountName,
  nextEnvName,
  proxySetting,
  refuseDuplicate,
} from "./_connect_parts.ts";

/** Flags of `connect`. */
export interface ConnectFlags extends ApplyFlags {
  providers?: string;
  apiKey?: string;
  apiKeyEnv?: string;
  name?: string;
  baseUrl?: string;
  id?: string;
  inline?: boolean;
  /** False with `--no-verify`. */
  verify?: boolean;
  proxy?: string;
}

/** Adds `connect`'s flags to a command (onboard reuses them). */
export function withConnectFlags(cmd: Command): Command {
  return cmd
    .option("--providers <path>", "a template file laid over the bundled templates")
    .option("--api-key <key>", "the provider key (beware: visible in the process list)")
    .option(
      "--api-key-env <var>",
      "read the key from this environment variable; the config names it",
    )
    .option("--name <name>", "account name (default <provider>-NNNN)")
    .option("--base-url <url>", "base URL, for local servers and custom endpoints")
    .option("--id <id>", "provider id for a local template (default: the template's)")
    .option("--inline", "write the key into the config instead of the .env beside it")
    .option("--proxy <name-or-url>", "reach the provider through a [proxies.<name>] or a proxy URL")
    .option("--no-verify", "do not call the provider's models endpoint with the key first");
}

/** `eggpool connect [TEMPLATE]` and `eggpool connect list` (spec 07 §3). */
export function connectCommand(ctx: CliContext): Command {
  const connect = withApplyFlags(withConnectFlags(
    new Command("connect")
      .description("add a provider account from a template (checks the key first)")
      .argument("[template]", "template id, as 'eggpool connect list' shows"),
  )).action(async (template: string | undefined, flags: ConnectFlags) => {
    await connectAccount(ctx, template, flags);
    await applyToServer(ctx, flags);
  });
  connect.command("list")
    .description("list the provider templates")
    .option("--providers <path>", "a template file laid over the bundled templates")
    .action(async (flags: { providers?: string }, cmd: Command) => {
      // `connect` itself has --providers too, and commander gives it the flag.
      const overlay = flags.providers ?? cmd.parent?.opts<{ providers?: string }>().providers;
      const templates = await loadTemplates(overlay);
      const configured = new Map<string, number>();
      try {
        const text = await Deno.readTextFile(ctx.configPath().path);
        for (const [id, p] of readProviders(text)) configured.set(id, p.priority);
      } catch {
        // No config yet: nothing is configured.
      }
      ctx.io.out(renderTemplateList(templates, configured));
    });
  return connect;
}

/** Adds one account; returns its provider id and name. The caller applies it to the server. */
export async function connectAccount(
  ctx: CliContext,
  templateId: string | undefined,
  flags: ConnectFlags,
): Promise<{ providerId: string; name: string }> {
  const templates = await loadTemplates(flags.providers);
  const path = ctx.configPath().path;
  const before = await readConfigText(path);
  const providers = readProviders(before);
  // A provider already in the config takes another account even without a template.
  if (templateId !== undefined && !templates.has(templateId) && providers.has(templateId)) {
    templates.set(templateId, configuredTemplate(templateId, providers.get(templateId)!));
  }
  const template = await pickTemplate(templates, templateId);
  const envText = await readEnvText(path);
  const dotenv = envVars(envText);

  const local = template.category === "local";
  const providerId = flags.id ??
    (local && templateId === undefined
      ? await ask("Provider id for this server", {
        what: "a provider id",
        flags: "--id",
        initial: template.id,
      })
      : template.id);
  const existing = providers.get(providerId);
  const baseUrl = flags.baseUrl ?? existing?.baseUrl ??
    (local && templateId === undefined
      ? await ask("Base URL of the server", {
        what: "a base URL",
        flags: "--base-url",
        initial: template.baseUrl,
      })
      : template.baseUrl);
  const keyless = (existing?.authMode ?? template.authMode) === "none";

  const taken = new Set([...providers.values()].flatMap((p) => p.accounts.map((a) => a.name)));
  const name = flags.name ?? nextAccountName(providerId, taken);
  if (taken.has(name)) throw new CliError(`an account named "${name}" already exists`);

  const key = keyless ? undefined : await readKey(ctx, flags, dotenv, template);
  if (key !== undefined) await refuseDuplicate(ctx, path, key);
  const envName = keyless || flags.inline ? undefined : flags.apiKeyEnv ??
    nextEnvName(providerId, providers, dotenv);

  const account: Record<string, string> = { name };
  if (key !== undefined && flags.inline) account.api_key = key;
  if (envName !== undefined) account.api_key_env = envName;
  if (flags.proxy !== undefined) Object.assign(account, proxySetting(before, flags.proxy));

  const text = withAccount(before, {
    template: existing === undefined ? template : undefined,
    providerId,
    baseUrl,
    account,
  });
  const env = new Map<string, string>();
  if (envName !== undefined && key !== undefined && dotenv.get(envName) !== key) {
    env.set(envName, key);
  }
  await commitChange(ctx, { text, env }, async (loaded) => {
    if (flags.verify === false) return;
    await verifyOrRefuse(loaded, { providerId, accountName: name, keyless }, ctx.io.out);
  });
  ctx.io.out(`Added ${name} to ${providerId}.\n`);
  if (env.size > 0) ctx.io.out(`Key stored in ${envFileOf(path)} as ${envName}.\n`);
  return { providerId, name };
}

/** `text` with the account appended, and first the provider block when `template` is given. */
function withAccount(
  text: string,
  add: { template?: ProviderTemplate; providerId: string; baseUrl: string; account: TomlTable },
): string {
  const { template: t, providerId } = add;
  try {
    if (t !== undefined) {
      const block = { ...t.block as TomlTable, id: providerId, base_url: add.baseUrl };
      text = appendTable(text, ["providers", providerId], { ...block, routing_priority: 0 }, [
        `${t.displayName} (${t.category}, ${t.status}), added by 'eggpool connect'`,
      ]);
    }
    return appendArrayTable(text, ["providers", providerId, "accounts"], add.account);
  } catch (error) {
    editFailed(error);
  }
}

async function pickTemplate(
  templates: ReadonlyMap<string, ProviderTemplate>,
  id: string | undefined,
): Promise<ProviderTemplate> {
  if (id !== undefined) {
    const t = templates.get(id);
    if (t === undefined) {
      throw new CliError(
        `no provider template "${id}"; 'eggpool connect list' shows them (or use custom-compatible)`,
      );
    }
    return t;
  }
  const options = byCategory(templates).flatMap(([category, list]) =>
    list.map((t) => ({
      value: t.id,
      label: `${t.displayName}${t.recommended ? " *" : ""}`,
      hint: `${category}, ${t.status}: ${t.notes}`,
    }))
  );
  const picked = await choose("Which provider?", options, {
    what: "a provider template",
    flags: "a template id (eggpool connect TEMPLATE; 'eggpool connect list' shows them)",
  });
  return templates.get(picked)!;
}

async function readKey(
  ctx: CliContext,
  flags: ConnectFlags,
  dotenv: ReadonlyMap<string, string>,
  template: ProviderTemplate,
): Promise<string> {
  let key: string | undefined;
  if (flags.apiKey !== undefined) key = flags.apiKey;
  else if (flags.apiKeyEnv !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(flags.apiKeyEnv)) {
      throw new CliError(`--api-key-env "${flags.apiKeyEnv}" is not a variable name (A-Z, 0-9, _)`);
    }
    key = ctx.env.get(flags.apiKeyEnv) ?? dotenv.get(flags.apiKeyEnv);
    if (key === undefined || key.trim() === "") {
      throw new CliError(`the environment variable ${flags.apiKeyEnv} is not set`);
    }
  } else {
    key = await askSecret(`API key for ${template.displayName}`, {
      what: "an API key",
      flags: "--api-key KEY or --api-key-env VAR",
    });
  }
  key = key.trim();
  if (key === "") throw new CliError("No API key provided. Aborted.");
  return key;
}
