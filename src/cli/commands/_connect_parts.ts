/** The small decisions of `connect`: names, proxy setting, duplicate keys. */
import { CliError } from "../../core/errors.ts";
import { loadConfig, resolveAccountKey } from "../../config/load.ts";
import type { ProviderTemplate } from "../../config/templates.ts";
import type { CliContext } from "../context.ts";
import { parseRaw, type readProviders, type WrittenProvider } from "./_config_view.ts";

/** `proxy = NAME` for a configured `[proxies.NAME]`, else `proxy_url = URL`. */
export function proxySetting(text: string, value: string): Record<string, string> {
  const proxies = parseRaw(text).proxies;
  if (proxies !== null && typeof proxies === "object" && Object.hasOwn(proxies, value)) {
    return { proxy: value };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return { proxy_url: value };
  throw new CliError(
    `--proxy "${value}" is neither a [proxies.<name>] of the config nor a proxy URL`,
  );
}

/** A template made from a provider the config already has (for `connect <configured id>`). */
export function configuredTemplate(id: string, p: WrittenProvider): ProviderTemplate {
  return {
    id,
    displayName: id,
    category: "direct",
    status: "unverified",
    region: "",
    recommended: false,
    notes: "",
    baseUrl: p.baseUrl ?? "",
    authMode: p.authMode,
    block: {},
  };
}

/** Refuses a key that an account of the config already uses. */
export async function refuseDuplicate(ctx: CliContext, path: string, key: string): Promise<void> {
  let loaded;
  try {
    loaded = await loadConfig(path, { env: (n) => ctx.env.get(n) });
  } catch {
    return; // An invalid config is reported when the change is validated.
  }
  for (const p of Object.values(loaded.config.providers)) {
    for (const a of p.accounts) {
      if (resolveAccountKey(loaded, p.id, a.name) === key) {
        throw new CliError(`this key is already configured as ${p.id}/${a.name}`);
      }
    }
  }
}

/** `<provider>-NNNN`, counting from the number of accounts + 1 (spec 07 §3). */
export function nextAccountName(providerId: string, taken: ReadonlySet<string>): string {
  for (let n = taken.size + 1;; n++) {
    const name = `${providerId}-${String(n).padStart(4, "0")}`;
    if (!taken.has(name)) return name;
  }
}

/** `<PROVIDER>_KEY_<n>`, the first not used by the config or the `.env`. */
export function nextEnvName(
  providerId: string,
  providers: ReturnType<typeof readProviders>,
  dotenv: ReadonlyMap<string, string>,
): string {
  const used = new Set([...providers.values()].flatMap((p) => p.accounts.map((a) => a.env)));
  const stem = providerId.toUpperCase().replace(/[^A-Z0-9]/g, "_").replace(/^(\d)/, "P_$1");
  for (let n = 1;; n++) {
    const name = `${stem}_KEY_${n}`;
    if (!used.has(name) && !dotenv.has(name)) return name;
  }
}
