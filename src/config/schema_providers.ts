/**
 * Schema of providers, their accounts and model overrides (spec 02 §9–§12).
 * Rules that compare several keys live in schema_rules.ts.
 */

import { z } from "zod";
import { microsPerMillion, pricePer1k } from "./_price.ts";
import {
  baseUrl,
  endpointPath,
  envName,
  hasControlChars,
  headerName,
  headerSafeText,
  looseTable,
  num,
  proxyUrl,
  text,
  upperEnum,
} from "./schema_fields.ts";

/** Provider ids: letters, digits and inner dashes (spec 02 §9). */
export const PROVIDER_ID = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

export const ProtocolSchema = z.enum(["openai", "anthropic"]);

export const AccountSchema = z.object({
  name: text().refine((v) => !hasControlChars(v), "must not contain control characters"),
  api_key: z.string().optional(),
  api_key_env: envName().default(""),
  enabled: z.boolean().default(true),
  weight: num({ gt: 0 }).default(1),
  five_hour_offset_microdollars: num({ int: true }).default(0),
  weekly_offset_microdollars: num({ int: true }).default(0),
  monthly_offset_microdollars: num({ int: true }).default(0),
  proxy: text().optional(),
  proxy_url: proxyUrl().optional(),
  proxy_url_env: envName().optional(),
});

const limitsFields = {
  max_context_tokens: num({ int: true, gt: 0 }).optional(),
  max_input_tokens: num({ int: true, gt: 0 }).optional(),
  max_output_tokens: num({ int: true, gt: 0 }).optional(),
};

export const ModelOverrideSchema = z.object({
  protocol: ProtocolSchema.optional(),
  ...limitsFields,
  enforce_context_limit: z.boolean().default(true),
  input_price_per_1k: pricePer1k().optional(),
  output_price_per_1k: pricePer1k().optional(),
  cache_read_per_million_microdollars: microsPerMillion().optional(),
  cache_write_per_million_microdollars: microsPerMillion().optional(),
});

export const StaticModelSchema = z.object({
  id: text(),
  display_name: z.string().optional(),
  protocol: ProtocolSchema.optional(),
  ...limitsFields,
  supports_tools: z.boolean().optional(),
  supports_vision: z.boolean().optional(),
  source_metadata: looseTable().default({}),
});

export const HeaderSchema = z.object({
  name: headerName(),
  value: headerSafeText().optional(),
  value_env: envName().optional(),
});

export const AuthSchema = z.object({
  mode: z.enum(["bearer", "api_key", "raw_authorization", "none"]).default("bearer"),
  header: headerName().default("Authorization"),
  scheme: z
    .string()
    .refine((v) => v !== "" && !/\s/.test(v), "must be a non-empty word without whitespace")
    .default("Bearer"),
});

export const ModelsEndpointSchema = z.object({
  method: upperEnum(["GET", "POST", "DISABLED"]).default("GET"),
  path: endpointPath().default("/models"),
  body: z.unknown().optional(),
  query: z.record(z.string(), z.string()).default({}),
  required: z.boolean().default(true),
});

const streamTimeout = num({ gt: 0, max: 86_400 });

export const StreamTimeoutsSchema = z.object({
  first_byte_timeout_s: streamTimeout.optional(),
  idle_timeout_s: streamTimeout.optional(),
  // Accepted for compatibility and ignored; 0 means unset.
  max_lifetime_s: num({ min: 0 })
    .optional()
    .transform((v) => (v === 0 ? undefined : v)),
});

export const VerifySchema = z.object({
  probe_model: z.string().optional(),
  probe_protocol: ProtocolSchema.default("openai"),
  require_models: z.boolean().default(true),
});

/**
 * A timeout key of the Python config that Deno's fetch cannot honour: it has
 * no connect or write deadline of its own. Accepting the key and ignoring it
 * would mislead the operator (issue #12), so setting it is an error.
 */
export function unsupportedTimeout(what: string) {
  return z.unknown().optional().refine(
    (v) => v === undefined,
    `is not supported: Deno's fetch has no separate ${what} deadline. The response-head ` +
      "deadline, read_timeout_s (or stream_timeouts.first_byte_timeout_s), covers connecting, " +
      "sending the request and waiting for the answer; remove this key",
  );
}

export const ProviderSchema = z.object({
  id: text(),
  // Not in the Python EggPool: false keeps a provider's table (and its accounts) in the file
  // while EggPool ignores it, which is also how a provider may have no accounts yet.
  enabled: z.boolean().default(true),
  base_url: baseUrl(),
  protocols: z
    .array(ProtocolSchema)
    .min(1, "must list at least one protocol")
    .default(["openai"]),
  kind: z.string().optional(),
  openai_path: endpointPath().default("/chat/completions"),
  anthropic_path: endpointPath().default("/messages"),
  responses_path: endpointPath().optional(),
  models_method: upperEnum(["GET", "POST"]).default("GET"),
  models_path: endpointPath().default("/models"),
  models_endpoint: ModelsEndpointSchema.optional(),
  connect_timeout_s: unsupportedTimeout("connect"),
  read_timeout_s: num({ gt: 0 }).default(300),
  write_timeout_s: unsupportedTimeout("write"),
  // How long an upstream call waits for one of the max_connections slots.
  pool_timeout_s: num({ gt: 0 }).default(30),
  max_connections: num({ int: true, min: 1 }).default(32),
  max_keepalive: num({ int: true, min: 0 }).default(8),
  keepalive_timeout_s: num({ min: 0 }).default(30),
  stream_completion_policy: z
    .enum(["strict", "compatible", "permissive_observe"])
    .default("strict"),
  stream_timeouts: StreamTimeoutsSchema.prefault({}),
  routing_priority: num({ int: true, min: 0 }).default(0),
  accounts: z.array(AccountSchema).default([]),
  model_overrides: z.record(z.string(), ModelOverrideSchema).default({}),
  model_capabilities: z.record(z.string(), looseTable()).default({}),
  auth: AuthSchema.prefault({}),
  headers: z.array(HeaderSchema).default([]),
  static_models: z.array(StaticModelSchema).default([]),
  verify: VerifySchema.prefault({}),
});

export const ProxySchema = z.object({
  url: proxyUrl().optional(),
  url_env: envName().optional(),
});
