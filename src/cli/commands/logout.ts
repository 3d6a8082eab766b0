import { Command } from "commander";
import { loadConfig, resolveAccountKey } from "../../config/load.ts";
import { removeArrayElement, removeTable } from "../../config/toml_edit.ts";
import type { CliContext } from "../context.ts";
import {
  type ApplyFlags,
  applyToServer,
  commitChange,
  editFailed,
  envVars,
  readConfigText,
  readEnvText,
  withApplyFlags,
} from "./_config_edit.ts";
import { readProviders } from "./_config_view.ts";
import { choose } from "./_prompt.ts";

interface Match {
  providerId: string;
  name: string;
  index: number;
  env?: string;
}

/**
 * `eggpool logout [TARGET]` (spec 07 §3): removes one account, matched by
 * provider id, account name, env-var name or the key itself, and its
 * provider block when it was the provider's last account. Its key leaves the
 * `.env` too unless another account still names the same variable.
 */
export function logoutCommand(ctx: CliContext): Command {
  return withApplyFlags(
    new Command("logout")
      .description("remove a provider account (and the provider with its last account)")
      .argument("[target]", "provider id, account name, env var name or the key itself"),
  ).action(async (target: string | undefined, flags: ApplyFlags) => {
    const path = ctx.configPath().path;
    const before = await readConfigText(path);
    const providers = readProviders(before);
    const all: Match[] = [...providers].flatMap(([providerId, p]) =>
      p.accounts.map((a, index) => ({ providerId, name: a.name, index, env: a.env }))
    );
    if (all.length === 0) {
      ctx.io.out(`No accounts are configured in ${path}.\n`);
      return;
    }
    const matches = target === undefined ? all : await matching(ctx, path, all, target);
    if (matches.length === 0) {
      ctx.io.out(`No configured provider or API key found for '${target}'.\n`);
      return;
    }
    // Without a target even a single account is chosen from the menu, never removed unasked.
    const pick = matches.length === 1 && target !== undefined
      ? matches[0]
      : await pickOne(matches, target);
    const remaining = providers.get(pick.providerId)!.accounts.length - 1;
    let text: string;
    try {
      text = remaining === 0
        ? removeTable(before, ["providers", pick.providerId])
        : removeArrayElement(before, ["providers", pick.providerId, "accounts"], pick.index);
    } catch (error) {
      editFailed(error);
    }
    const env = new Map<string, string | undefined>();
    const dotenv = envVars(await readEnvText(path));
    const shared = all.some((m) => m !== pick && m.env === pick.env);
    if (pick.env !== undefined && !shared && dotenv.has(pick.env)) env.set(pick.env, undefined);
    await commitChange(ctx, { text, env });
    ctx.io.out(`Removed ${pick.providerId}/${pick.name} from ${path}.\n`);
    if (env.size > 0) ctx.io.out(`Removed ${pick.env} from the .env file.\n`);
    await applyToServer(ctx, flags);
  });
}

async function matching(
  ctx: CliContext,
  path: string,
  all: Match[],
  target: string,
): Promise<Match[]> {
  const direct = all.filter((m) =>
    m.providerId === target || m.name === target || m.env === target
  );
  if (direct.length > 0) return direct;
  // The key itself: compare against each account's resolved key, never print it.
  try {
    const loaded = await loadConfig(path, { env: (n) => ctx.env.get(n) });
    return all.filter((m) => resolveAccountKey(loaded, m.providerId, m.name) === target);
  } catch {
    return [];
  }
}

function pickOne(matches: Match[], target: string | undefined): Promise<Match> {
  const list = matches.map((m) => `${m.providerId}/${m.name}`).join(", ");
  return choose(
    target === undefined ? "Which account?" : `'${target}' matches several accounts; which one?`,
    matches.map((m, i) => ({ value: String(i), label: `${m.providerId}/${m.name}` })),
    {
      what: "one account",
      flags: `an account name as TARGET (${
        target === undefined ? "configured" : "matches"
      }: ${list})`,
    },
  ).then((i) => matches[Number(i)]);
}
