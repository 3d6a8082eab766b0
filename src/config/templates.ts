/**
 * Provider templates for `eggpool connect` (spec 07 §3): the embedded
 * `templates/providers.toml`, optionally overlaid by an operator's file in the
 * same format (`--providers PATH`).
 */
import { parse, TomlError } from "smol-toml";
import { ConfigError } from "../core/errors.ts";
import { PROVIDER_ID } from "./schema_providers.ts";
import bundled from "./templates/providers.toml" with { type: "text" };
import { isTable } from "./_table.ts";

/** The embedded template file, as text. */
export const BUNDLED_TEMPLATES: string = bundled;

/** Where a template's provider runs. */
export type TemplateCategory = "direct" | "aggregator" | "local";
/** How far a template has been checked against the live service. */
export type TemplateStatus = "verified" | "experimental" | "unverified";

/** Keys that describe the template and are not copied into the config. */
export const TEMPLATE_META_KEYS: ReadonlySet<string> = new Set([
  "display_name",
  "status",
  "category",
  "region",
  "recommended",
  "notes",
  "api_key_env",
  "verify",
]);

/** One provider template. */
export interface ProviderTemplate {
  id: string;
  displayName: string;
  category: TemplateCategory;
  status: TemplateStatus;
  region: string;
  recommended: boolean;
  notes: string;
  baseUrl: string;
  /** `auth.mode`, `"bearer"` when the template has no `[auth]`. */
  authMode: string;
  /** The provider block as it goes into the config (metadata keys removed). */
  block: Record<string, unknown>;
}

const CATEGORIES: readonly TemplateCategory[] = ["direct", "aggregator", "local"];
const STATUSES: readonly TemplateStatus[] = ["verified", "experimental", "unverified"];

/** Parses a template file; `source` names it in errors. */
export function parseTemplates(text: string, source: string): Map<string, ProviderTemplate> {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    if (error instanceof TomlError) {
      throw templateError(source, `TOML syntax error at line ${error.line}`);
    }
    throw error;
  }
  const providers = isTable(raw) ? raw.providers : undefined;
  if (!isTable(providers)) throw templateError(source, "no [providers.<id>] tables");
  const out = new Map<string, ProviderTemplate>();
  for (const [key, value] of Object.entries(providers)) {
    if (!isTable(value)) throw templateError(source, `providers.${key} is not a table`);
    out.set(key, readTemplate(key, value, source));
  }
  return out;
}

function readTemplate(
  key: string,
  t: Record<string, unknown>,
  source: string,
): ProviderTemplate {
  const where = `providers.${key}`;
  const id = t.id ?? key;
  if (typeof id !== "string" || !PROVIDER_ID.test(id) || id !== key) {
    throw templateError(source, `${where}.id must equal the table name "${key}"`);
  }
  if (typeof t.base_url !== "string" || t.base_url === "") {
    throw templateError(source, `${where}.base_url is missing`);
  }
  const category = t.category ?? "direct";
  if (!CATEGORIES.includes(category as TemplateCategory)) {
    throw templateError(source, `${where}.category must be one of ${CATEGORIES.join(", ")}`);
  }
  const status = t.status ?? "unverified";
  if (!STATUSES.includes(status as TemplateStatus)) {
    throw templateError(source, `${where}.status must be one of ${STATUSES.join(", ")}`);
  }
  const block: Record<string, unknown> = { id };
  for (const [k, v] of Object.entries(t)) {
    if (!TEMPLATE_META_KEYS.has(k) && k !== "id") block[k] = v;
  }
  const auth = isTable(t.auth) ? t.auth : {};
  return {
    id,
    displayName: typeof t.display_name === "string" ? t.display_name : id,
    category: category as TemplateCategory,
    status: status as TemplateStatus,
    region: typeof t.region === "string" ? t.region : "",
    recommended: t.recommended === true,
    notes: typeof t.notes === "string" ? t.notes : "",
    baseUrl: t.base_url,
    authMode: typeof auth.mode === "string" ? auth.mode : "bearer",
    block,
  };
}

/**
 * The bundled templates with `overlay`'s laid over them: a template of the
 * same id replaces the bundled one, new ids are added after the bundled ones.
 */
export async function loadTemplates(overlayPath?: string): Promise<Map<string, ProviderTemplate>> {
  const all = parseTemplates(BUNDLED_TEMPLATES, "the bundled templates");
  if (overlayPath === undefined) return all;
  let text: string;
  try {
    text = await Deno.readTextFile(overlayPath);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound ? "no such file" : String(error);
    throw templateError(overlayPath, `cannot read it (${why})`);
  }
  for (const [id, t] of parseTemplates(text, overlayPath)) all.set(id, t);
  return all;
}

function templateError(source: string, message: string): ConfigError {
  return new ConfigError([{ path: "", message: `provider templates (${source}): ${message}` }]);
}
