/**
 * The whole `config.toml` schema (spec 02) and the step that turns parsed TOML
 * into a {@linkcode ResolvedConfig}: defaults filled, legacy accounts folded
 * into a provider, every problem collected with its key path.
 *
 * Keys keep their TOML spelling (snake_case) so error paths match the file.
 */

import { z } from "zod";
import type { KeyedIssue, PathSegment } from "./_key_path.ts";
import { valueAt } from "./_key_path.ts";
import { findUnknownKeys, suggestKey, type UnknownKey } from "./_unknown_keys.ts";
import { inertKeyWarnings } from "./key_support.ts";
import {
  DashboardSchema,
  DatabaseSchema,
  LimitsSchema,
  ModelsSchema,
  PricingSchema,
  RoutingSchema,
  ServerSchema,
  UpstreamSchema,
} from "./schema_core.ts";
import { looseTable } from "./schema_fields.ts";
import {
  BackupSchema,
  MaintenanceSchema,
  MetricsSchema,
  NetworkSchema,
  ReadinessProbeSchema,
  SecuritySchema,
  UpdateCheckerSchema,
} from "./schema_ops.ts";
import {
  AccountSchema,
  ModelOverrideSchema,
  type ModelsEndpointSchema,
  ProviderSchema,
  ProxySchema,
} from "./schema_providers.ts";
import { checkConfigRules } from "./schema_rules.ts";
import { TranscoderSchema } from "./schema_transcoder.ts";

/** Provider id that legacy top-level `[[accounts]]` belong to (spec 02 §12). */
export const LEGACY_PROVIDER_ID = "opencode-go";

export const ConfigSchema = z.object({
  server: ServerSchema.prefault({}),
  upstream: UpstreamSchema.prefault({}),
  database: DatabaseSchema.prefault({}),
  models: ModelsSchema.prefault({}),
  routing: RoutingSchema.prefault({}),
  limits: LimitsSchema.prefault({}),
  pricing: PricingSchema.prefault({}),
  dashboard: DashboardSchema.prefault({}),
  providers: z.record(z.string(), ProviderSchema).default({}),
  accounts: z.array(AccountSchema).default([]),
  model_overrides: z.record(z.string(), ModelOverrideSchema).default({}),
  model_capabilities: z.record(z.string(), looseTable()).default({}),
  proxies: z.record(z.string(), ProxySchema).default({}),
  security: SecuritySchema.prefault({}),
  metrics: MetricsSchema.prefault({}),
  maintenance: MaintenanceSchema.prefault({}),
  backup: BackupSchema.prefault({}),
  readiness_probe: ReadinessProbeSchema.prefault({}),
  network: NetworkSchema.prefault({}),
  update_checker: UpdateCheckerSchema.prefault({}),
  transcoder: TranscoderSchema.prefault({}),
  model_info: looseTable().default({}),
});

/** A config as written in TOML: every key optional where the spec has a default. */
export type Config = z.input<typeof ConfigSchema>;

/** Makes every nested property and array read-only. */
export type DeepReadonly<T> = T extends readonly (infer U)[] ? ReadonlyArray<DeepReadonly<U>>
  : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
  : T;

type ParsedConfig = z.output<typeof ConfigSchema>;
type ParsedProvider = z.output<typeof ProviderSchema>;
type ProviderDraft = Omit<ParsedProvider, "models_endpoint"> & {
  models_endpoint: z.output<typeof ModelsEndpointSchema>;
};
type ConfigDraft = Omit<ParsedConfig, "providers" | "database"> & {
  providers: Record<string, ProviderDraft>;
  database: Omit<ParsedConfig["database"], "path"> & { path: string };
};

/** One resolved `[providers.<id>]` table; `models_endpoint` is always present. */
export type ResolvedProviderConfig = DeepReadonly<ProviderDraft>;
/** One resolved account of a provider. */
export type ResolvedAccountConfig = ResolvedProviderConfig["accounts"][number];
/** The config after validation: deeply read-only, every default filled in. */
export type ResolvedConfig = DeepReadonly<ConfigDraft>;

/** Options for {@linkcode resolveConfig}. */
export interface ResolveConfigOptions {
  /** Used when `[database].path` is not set. */
  defaultDatabasePath: string;
}

/** What {@linkcode resolveConfig} found. Issues carry key paths, not lines. */
export type ConfigResolution =
  | { ok: true; config: ResolvedConfig; warnings: KeyedIssue[]; legacyAccounts: boolean }
  | { ok: false; errors: KeyedIssue[]; warnings: KeyedIssue[] };

/** Validates parsed TOML data and fills every default; never throws for bad input. */
export function resolveConfig(raw: unknown, options: ResolveConfigOptions): ConfigResolution {
  const warnings: KeyedIssue[] = [];
  const rules = checkConfigRules(raw);
  warnings.push(...rules.warnings, ...inertKeyWarnings(raw));
  const parsed = ConfigSchema.safeParse(raw);
  const errors = findUnknownKeys(ConfigSchema, raw).map((u) => unknownKeyIssue(u, raw));
  if (!parsed.success) errors.push(...parsed.error.issues.map((i) => zodIssue(i, raw)));
  errors.push(...rules.errors);
  if (!parsed.success || errors.length > 0) {
    return { ok: false, errors: dedupe(errors), warnings };
  }
  const data = parsed.data;
  const providers: Record<string, ProviderDraft> = {};
  for (const [id, p] of Object.entries(data.providers)) {
    if (p.enabled) providers[id] = finishProvider(p);
  }
  const legacyAccounts = Object.keys(data.providers).length === 0 && data.accounts.length > 0;
  if (legacyAccounts) {
    providers[LEGACY_PROVIDER_ID] = finishProvider(ProviderSchema.parse({
      id: LEGACY_PROVIDER_ID,
      base_url: data.upstream.base_url,
      protocols: ["openai", "anthropic"],
      accounts: data.accounts,
      // The legacy provider's connections follow [upstream] (spec 02 §2).
      read_timeout_s: data.upstream.read_timeout_s,
      pool_timeout_s: data.upstream.pool_timeout_s,
      max_connections: data.upstream.max_connections,
      max_keepalive: data.upstream.max_keepalive,
      keepalive_timeout_s: data.upstream.keepalive_timeout_s,
    }));
  }
  const config: ConfigDraft = {
    ...data,
    providers,
    database: { ...data.database, path: data.database.path ?? options.defaultDatabasePath },
  };
  warnings.push(...noticesFor(config));
  return { ok: true, config: deepFreeze(config), warnings, legacyAccounts };
}

const OPENCODE_GO_BASE_URL = "https://opencode.ai/zen/go/v1";

function finishProvider(p: ParsedProvider): ProviderDraft {
  const models_endpoint = p.models_endpoint ?? {
    method: p.models_method,
    path: p.models_path,
    query: {},
    required: true,
  };
  const model_capabilities = { ...p.model_capabilities };
  // Built-in seed (spec 02 §9): OpenCode Go's mimo-v2.5 takes low/medium/high thinking efforts.
  if (
    p.base_url === OPENCODE_GO_BASE_URL && model_capabilities["mimo-v2.5"]?.thinking === undefined
  ) {
    model_capabilities["mimo-v2.5"] = {
      ...model_capabilities["mimo-v2.5"],
      thinking: {
        status: "supported",
        source: "builtin",
        supported_efforts: ["low", "medium", "high"],
        effort_to_budget_tokens: { low: 1024, medium: 4096, high: 16384 },
      },
    };
  }
  return { ...p, models_endpoint, model_capabilities };
}

function noticesFor(config: ConfigDraft): KeyedIssue[] {
  const notes: KeyedIssue[] = [];
  if (config.routing.local_quota_mode === "hard_cap") {
    notes.push({
      segments: ["routing", "local_quota_mode"],
      message: "hard_cap is on: an account over its local [limits] budget is skipped " +
        "until its window frees up",
    });
  }
  if (config.metrics.detailed_span_sample_rate !== undefined) {
    notes.push({
      segments: ["metrics", "detailed_span_sample_rate"],
      message: "is deprecated and ignored; use metrics.dispatch_spans.sample_rate",
    });
  }
  let accounts = 0;
  for (const [id, p] of Object.entries(config.providers)) {
    accounts += p.accounts.length;
    if (p.stream_timeouts.max_lifetime_s !== undefined) {
      notes.push({
        segments: ["providers", id, "stream_timeouts", "max_lifetime_s"],
        message: "is accepted but ignored; use idle_timeout_s to bound silent streams",
      });
    }
  }
  if (accounts === 0) {
    notes.push({
      segments: ["providers"],
      message: "no accounts are configured; requests cannot be served until one is added",
    });
  }
  return notes;
}

const EXPECTED: Readonly<Record<string, string>> = {
  number: "a number",
  int: "an integer",
  string: "a string",
  boolean: "true or false",
  array: "an array",
  object: "a table",
  record: "a table",
};

/** An unknown key as an error, with the likely intended key when there is one. */
function unknownKeyIssue(u: UnknownKey, raw: unknown): KeyedIssue {
  const key = String(u.segments.at(-1));
  const guess = suggestKey(key, u.known);
  const value = (raw as Record<string, unknown>)[key];
  if (u.segments.length === 1 && typeof value === "object" && value !== null) {
    return {
      segments: u.segments,
      message: guess === undefined
        ? `unknown table [${key}]; remove it or check the spelling`
        : `unknown table [${key}]; did you mean [${guess}]?`,
    };
  }
  return {
    segments: u.segments,
    message: guess === undefined
      ? "unknown key; remove it or check the spelling"
      : `unknown key; did you mean ${guess}?`,
  };
}

function zodIssue(issue: z.core.$ZodIssue, raw: unknown): KeyedIssue {
  const segments: PathSegment[] = issue.path.map((p) => typeof p === "number" ? p : String(p));
  const found = valueAt(raw, segments);
  let message = issue.message;
  if (issue.code === "invalid_type") {
    const expected = issue.message.startsWith("must ")
      ? issue.message
      : `must be ${EXPECTED[issue.expected] ?? issue.expected}`;
    message = found === undefined ? "is required" : `${expected} (found ${tomlTypeOf(found)})`;
  } else if (issue.code === "invalid_value") {
    const allowed = issue.values.map((v) => JSON.stringify(v)).join(", ");
    const shown = typeof found === "string" && found.length <= 40 ? ` (found "${found}")` : "";
    message = `must be one of ${allowed}${shown}`;
  } else if (issue.code === "invalid_union") {
    message = `must be a number or a string (found ${tomlTypeOf(found)})`;
  }
  return { segments, message };
}

function tomlTypeOf(v: unknown): string {
  if (typeof v === "string") return "a string";
  if (typeof v === "number") return Number.isInteger(v) ? "an integer" : "a float";
  if (typeof v === "boolean") return "a boolean";
  if (Array.isArray(v)) return "an array";
  if (v instanceof Date) return "a date";
  if (v === undefined) return "nothing";
  return "a table";
}

function dedupe(issues: KeyedIssue[]): KeyedIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = JSON.stringify([i.segments, i.message]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value as DeepReadonly<T>;
}
