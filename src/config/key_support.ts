/**
 * Keys the schema accepts so a Python EggPool `config.toml` still loads, but
 * that do nothing in this version (issue #12: no setting is silently
 * ignored). Setting one to a value that would change something is reported as
 * a warning by `check-config` and at `serve` start, with the key's line; it is
 * never fatal, so a migrated file keeps working. Keys whose non-default value
 * this version refuses outright are errors in schema_rules.ts instead.
 *
 * tests/config_keys_test.ts walks every key the schema accepts and fails when
 * one is neither listed here (or refused) nor read by the code.
 */

import type { KeyedIssue, PathSegment } from "./_key_path.ts";
import { isTable } from "./_table.ts";

/**
 * One accepted-but-inert key or table. `path` uses `*` for any table key and
 * `[]` for any array item: `providers.*.verify.probe_model`.
 */
export interface InertKey {
  path: string;
  /** What EggPool does instead, or what to use; ends the warning. */
  why: string;
  /**
   * The value that matches what EggPool does anyway (usually the spec's
   * default): set to it, the key asks for nothing that is ignored. Absent:
   * any value is reported.
   */
  usual?: unknown;
  /**
   * For a whole table: its switch and the switch's default. While the switch
   * is at that default the feature is off, as asked, and nothing is reported.
   */
  gate?: readonly [key: string, off: unknown];
}

const CATALOGS = "external price catalogs are not fetched; set prices with " +
  "[model_overrides] input_price_per_1k / output_price_per_1k";
const NO_SIDE_CLIENT = "nothing in this version uses the shared outbound client " +
  "(price catalogs and the update checker are not built)";
const MAINTENANCE = "cleanup is bounded by max_rows_per_batch, max_batches_per_tick and " +
  "max_tick_duration_ms only";

/** Every key that is accepted and has no effect in this version. */
export const INERT_KEYS: readonly InertKey[] = [
  {
    path: "routing.unknown_request_reservation_microdollars",
    usual: 1_000_000,
    why: "reservations are not sized from it (the Python EggPool 0.6 did not read it either)",
  },
  {
    path: "routing.trace",
    gate: ["mode", "off"],
    why: "traces are not sampled or queued separately: every request's routing decisions are " +
      "always recorded with it (Traces page, /api/stats/recent/{id})",
  },
  { path: "pricing.catalogs.openrouter", gate: ["enabled", false], why: CATALOGS },
  { path: "pricing.catalogs.opencode_zen", gate: ["enabled", false], why: CATALOGS },
  { path: "pricing.catalogs.aliases", usual: [], why: CATALOGS },
  {
    path: "providers.*.models_endpoint.required",
    usual: true,
    why: "a model list that cannot be fetched is logged and the saved or static models " +
      "served either way",
  },
  {
    path: "providers.*.static_models[].supports_tools",
    why: "capability hints of static models are not used or shown",
  },
  {
    path: "providers.*.static_models[].supports_vision",
    why: "capability hints of static models are not used or shown",
  },
  {
    path: "providers.*.static_models[].source_metadata",
    usual: {},
    why: "metadata of static models is not used or shown",
  },
  {
    path: "providers.*.verify.probe_model",
    why: "`eggpool connect` verifies an account through its models endpoint only",
  },
  {
    path: "providers.*.verify.probe_protocol",
    usual: "openai",
    why: "`eggpool connect` verifies an account through its models endpoint only",
  },
  {
    path: "providers.*.verify.require_models",
    usual: true,
    why: "`eggpool connect` always requires the models endpoint to answer",
  },
  {
    path: "metrics.trace_sample_rate",
    usual: 0.05,
    why: "request timings are not sampled: every request's timings are recorded",
  },
  {
    path: "metrics.aggregate_only",
    usual: true,
    why: "timings are kept as per-request columns and rollups, whatever this says",
  },
  {
    path: "metrics.cleanup_max_rows_per_pass",
    usual: 5000,
    why: "use [maintenance] max_rows_per_batch and max_batches_per_tick",
  },
  {
    path: "metrics.event_loop_lag_enabled",
    usual: true,
    why: "event-loop lag is always measured (Runtime page, /metrics)",
  },
  {
    path: "metrics.dispatch_spans.sample_rate",
    usual: 0,
    why: "dispatch spans are not recorded",
  },
  {
    path: "metrics.dispatch_spans.window_size",
    usual: 200,
    why: "dispatch spans are not recorded",
  },
  { path: "maintenance.contention_defer_above_lock_wait_p95_ms", usual: 200, why: MAINTENANCE },
  { path: "maintenance.max_deferral_age_s", usual: 3600, why: MAINTENANCE },
  { path: "maintenance.p0_max_rows_per_batch", usual: 1000, why: MAINTENANCE },
  { path: "maintenance.p0_max_batches_per_tick", usual: 2, why: MAINTENANCE },
  { path: "maintenance.p0_max_tick_duration_ms", usual: 1000, why: MAINTENANCE },
  { path: "network.connect_timeout_s", usual: 10, why: NO_SIDE_CLIENT },
  { path: "network.read_timeout_s", usual: 30, why: NO_SIDE_CLIENT },
  { path: "network.max_connections", usual: 8, why: NO_SIDE_CLIENT },
  { path: "network.max_keepalive", usual: 2, why: NO_SIDE_CLIENT },
  { path: "network.keepalive_expiry_s", usual: 90, why: NO_SIDE_CLIENT },
  {
    path: "update_checker",
    gate: ["enabled", false],
    why: "the server does not look for releases; run `eggpool update`",
  },
  {
    path: "transcoder.features.tools",
    usual: true,
    why: "tools and tool results are always translated",
  },
  {
    path: "transcoder.features.structured_outputs",
    usual: true,
    why: "response_format is always translated (a forced tool on Anthropic accounts)",
  },
  {
    path: "model_info",
    gate: ["enabled", false],
    why: "the model metadata sidecar is not built",
  },
];

/** Warnings for every inert key `raw` (parsed TOML) sets to a value that would matter. */
export function inertKeyWarnings(raw: unknown): KeyedIssue[] {
  const out: KeyedIssue[] = [];
  for (const entry of INERT_KEYS) {
    for (const [segments, value] of expand(raw, entry.path.split("."))) {
      const message = inertMessage(entry, value);
      if (message !== undefined) out.push({ segments, message });
    }
  }
  return out;
}

function inertMessage(entry: InertKey, value: unknown): string | undefined {
  const tail = `has no effect in this version: ${entry.why}`;
  if (entry.gate !== undefined) {
    if (!isTable(value)) return undefined;
    const [key, off] = entry.gate;
    if (sameValue(value[key] ?? off, off)) return undefined;
    const keys = Object.keys(value).filter((k) => !isTable(value[k]));
    return `the table has no effect in this version (keys set: ${keys.join(", ")}): ${entry.why}`;
  }
  if (entry.usual !== undefined && sameValue(value, entry.usual)) return undefined;
  return tail;
}

/** The concrete paths and values in `raw` that a pattern's segments match. */
function expand(raw: unknown, pattern: readonly string[]): [PathSegment[], unknown][] {
  let found: [PathSegment[], unknown][] = [[[], raw]];
  for (const part of pattern) {
    const next: [PathSegment[], unknown][] = [];
    const array = part.endsWith("[]");
    const key = array ? part.slice(0, -2) : part;
    for (const [at, value] of found) {
      if (!isTable(value)) continue;
      const children: [PathSegment, unknown][] = key === "*"
        ? Object.entries(value)
        : Object.hasOwn(value, key)
        ? [[key, value[key]]]
        : [];
      for (const [k, child] of children) {
        if (!array) next.push([[...at, k], child]);
        else if (Array.isArray(child)) child.forEach((item, i) => next.push([[...at, k, i], item]));
      }
    }
    found = next;
  }
  return found;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
