/**
 * Codex CLI's settings for EggPool (10-clients.md): Codex reads
 * `$CODEX_HOME/config.toml` (default `~/.codex/config.toml`), speaks only the
 * Responses API, and takes its key from the environment variable a custom
 * provider names in `env_key`, never from the file. The edit goes through the
 * in-place TOML editor, so the user's comments, profiles and other providers
 * stay as they were.
 */
import { setValue } from "../../config/toml_edit.ts";
import type { SetupFlags, SetupInput } from "./configsetup.ts";
import { providersOf } from "./_model_listing.ts";

/** The variable Codex reads the local key from (the README's Codex block uses it too). */
export const CODEX_KEY_ENV = "EGGPOOL_KEY";

/**
 * The model Codex starts with: `--model`, else a model of an OpenAI-protocol
 * provider (its requests then need one translation, Responses to Chat), else
 * any model EggPool lists.
 */
export function codexModel(input: SetupInput, flags: SetupFlags): string | undefined {
  if (flags.model !== undefined) return flags.model;
  const { providers } = input.loaded.config;
  const ids = input.models.items.map((m) => m.id).sort();
  const openai = input.models.items
    .filter((m) => providersOf(m).some((p) => providers[p]?.protocols.includes("openai")))
    .map((m) => m.id)
    .sort();
  return openai[0] ?? ids[0];
}

/** `text` (Codex's config, or "") with EggPool as its model provider. */
export function codexToml(text: string, input: SetupInput, model: string | undefined): string {
  let out = text;
  if (model !== undefined) out = setValue(out, [], "model", model);
  out = setValue(out, [], "model_provider", "eggpool");
  const table = ["model_providers", "eggpool"];
  out = setValue(out, table, "name", "EggPool");
  out = setValue(out, table, "base_url", `${input.origin}/v1`);
  out = setValue(out, table, "env_key", CODEX_KEY_ENV);
  out = setValue(out, table, "wire_api", "responses");
  return out;
}
