/**
 * What the config-changing commands need to know about the file as written
 * (not as resolved): its providers and accounts, read from the raw TOML so a
 * config with an unrelated problem can still be edited.
 */
import { parse } from "smol-toml";
import { CliError } from "../../core/errors.ts";

/** One provider as written in the file. */
export interface WrittenProvider {
  priority: number;
  baseUrl?: string;
  authMode: string;
  accounts: { name: string; env?: string; key?: string }[];
}

/** The `[providers.*]` of `text`, in file order. */
export function readProviders(text: string): Map<string, WrittenProvider> {
  const doc = parseRaw(text);
  if (Array.isArray(doc.accounts)) {
    throw new CliError(
      "this config lists its accounts in a top-level [[accounts]] array (the old layout); " +
        "move them under [[providers.<id>.accounts]] to use this command",
    );
  }
  const out = new Map<string, WrittenProvider>();
  const providers = table(doc.providers) ?? {};
  for (const [id, raw] of Object.entries(providers)) {
    const p = table(raw) ?? {};
    const auth = table(p.auth);
    const accounts = Array.isArray(p.accounts) ? p.accounts.map(table) : [];
    out.set(id, {
      priority: typeof p.routing_priority === "number" ? p.routing_priority : 0,
      baseUrl: typeof p.base_url === "string" ? p.base_url : undefined,
      authMode: typeof auth?.mode === "string" ? auth.mode : "bearer",
      accounts: accounts.map((a) => ({
        name: String(a?.name ?? ""),
        env: typeof a?.api_key_env === "string" ? a.api_key_env : undefined,
        key: typeof a?.api_key === "string" ? a.api_key : undefined,
      })),
    });
  }
  return out;
}

/** `text` parsed; a syntax error is one CLI line. */
export function parseRaw(text: string): Record<string, unknown> {
  try {
    return parse(text) as Record<string, unknown>;
  } catch {
    throw new CliError(
      "the config is not valid TOML; 'eggpool check-config' shows where, 'eggpool edit' fixes it",
    );
  }
}

function table(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : undefined;
}
