/**
 * Schema of the process-level sections (spec 02 §1–§8): server, upstream,
 * database, models, routing, limits, pricing and dashboard.
 */

import { z } from "zod";
import { baseUrl, envName, looseTable, num, text, upperEnum } from "./schema_fields.ts";
import { unsupportedTimeout } from "./schema_providers.ts";

/** Default listen port (spec 00 §4). */
export const DEFAULT_PORT = 11300;

/** Upstream used by legacy single-provider configs (spec 02 §2). */
export const LEGACY_BASE_URL = "https://opencode.ai/zen/go/v1";

export const ServerSchema = z.object({
  // A stray space passes a TOML string but fails at listen with an obscure
  // error (issue #12), so check-config says it.
  host: text()
    .refine(
      (v) => !/\s/.test(v),
      "must be a bare host name or address, without spaces (check for a stray space inside the quotes)",
    )
    .default("127.0.0.1"),
  port: num({ int: true, min: 1, max: 65535 }).default(DEFAULT_PORT),
  api_key: z.string().optional(),
  api_key_env: envName().default("SERVER_API_KEY"),
  log_level: upperEnum(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]).default("INFO"),
  access_log: z.boolean().default(false),
  // One event loop per process; the knob stays for config compatibility.
  threads: num({ int: true, min: 1, max: 1 }).default(1),
  max_request_body_bytes: num({ int: true, gt: 0 }).default(10_485_760),
  // Not in the Python spec (issue #12): how long in-flight requests and streams
  // may run on after SIGTERM/SIGINT before they are ended with an error event.
  // The systemd unit's TimeoutStopSec is derived from it, so keep it bounded.
  shutdown_grace_s: num({ min: 0, max: 600 }).default(10),
  // Not in the Python spec (issue #12): the client connection edge
  // (src/http/conn_guard.ts). A new connection must deliver a request head in
  // header_timeout_s; a request body must arrive within body_timeout_s (408
  // otherwise); a keep-alive connection idle for idle_timeout_s is closed.
  header_timeout_s: num({ gt: 0, max: 3600 }).default(15),
  body_timeout_s: num({ gt: 0, max: 3600 }).default(60),
  idle_timeout_s: num({ gt: 0, max: 86_400 }).default(60),
  // Open client connections past this are answered 503 and closed. Unset:
  // derived from the open-file limit (src/ops/rlimit.ts), at most 4096.
  max_connections: num({ int: true, min: 1, max: 1_000_000 }).optional(),
  // Not in the Python spec (issue #12): relay every client socket so that a
  // client that half-closes after its request still gets the answer
  // (src/http/half_close.ts). Off by default: it copies every byte once more.
  half_close: z.boolean().default(false),
});

export const UpstreamSchema = z.object({
  base_url: baseUrl().default(LEGACY_BASE_URL),
  connect_timeout_s: unsupportedTimeout("connect"),
  read_timeout_s: num({ gt: 0 }).default(300),
  write_timeout_s: unsupportedTimeout("write"),
  pool_timeout_s: num({ gt: 0 }).default(30),
  max_connections: num({ int: true, min: 1 }).default(16),
  max_keepalive: num({ int: true, min: 0 }).default(4),
  keepalive_timeout_s: num({ min: 0 }).default(30),
  // Not in the Python spec: a stream that sends nothing for this long is cut.
  stream_idle_timeout_s: num({ gt: 0 }).default(120),
  // Not in the Python spec (issue #12): a non-streamed upstream body, or a
  // stream's held head, larger than this is refused with a 502, not buffered.
  max_response_body_bytes: num({ int: true, gt: 0 }).default(67_108_864),
  // Not in the Python spec (issue #12): how often accounts parked after a
  // failed credential probe are probed again; 0 = never (until a restart).
  credential_reprobe_s: num({ min: 0 }).default(300),
});

export const DatabaseSchema = z.object({
  path: text().optional(),
  busy_timeout_ms: num({ int: true, gt: 0 }).default(5000),
  wal: z.boolean().default(true),
  synchronous: upperEnum(["OFF", "NORMAL", "FULL", "EXTRA"]).default("NORMAL"),
  worker_threads: num({ int: true, min: 1, max: 2 }).default(1),
  journal_size_limit: num({ int: true, gt: 0 }).optional(),
});

export const ModelsSchema = z.object({
  refresh_interval_s: num({ int: true, min: 0 }).default(300),
  expose_mode: z.enum(["union", "intersection", "healthy_union"]).default("union"),
  startup_refresh: z.boolean().default(true),
  stale_after_s: num({ int: true, gt: 0 }).default(7200),
  allow_stale_catalog: z.boolean().default(true),
  ping_retain_days: num({ int: true, min: 1 }).default(7),
  collapse_models: z.boolean().default(false),
  catalog_withdrawal_policy: z
    .enum(["preserve_until_health", "confirmed_once", "confirmed_twice"])
    .default("preserve_until_health"),
});

export const RoutingTraceSchema = z.object({
  mode: z.enum(["all", "sampled", "off"]).default("off"),
  sample_rate: num({ min: 0, max: 1 }).default(0),
  include_score_components: z.boolean().default(false),
  skip_above_lock_wait_p95_ms: num({ min: 0 }).default(200),
  queue_capacity: num({ int: true, min: 100, max: 100_000 }).default(1000),
  flush_interval_s: num({ min: 0.1, max: 60 }).default(1),
  max_batch_size: num({ int: true, min: 1, max: 500 }).default(50),
  shutdown_flush_timeout_s: num({ min: 1, max: 30 }).default(5),
  guard_queue_occupancy_threshold: num({ gt: 0, max: 1 }).default(0.8),
  guard_oldest_event_age_s: num({ gt: 0 }).default(30),
  guard_cooldown_s: num({ min: 0 }).default(5),
});

export const RoutingSchema = z.object({
  strategy: z.enum(["quota_fair"]).default("quota_fair"),
  near_tie_epsilon: num({ min: 0 }).default(0.1),
  max_retries_before_stream: num({ int: true, min: 0 }).default(3),
  unknown_request_reservation_microdollars: num({ int: true, min: 0 }).default(1_000_000),
  inflight_penalty: num({ int: true, min: 0 }).default(100_000),
  health_penalty: num({ int: true, min: 0 }).default(500_000),
  randomize_near_ties: z.boolean().default(true),
  quota_exhausted_cooldown_seconds: num({ min: 0, max: 1800 }).default(300),
  local_quota_mode: z.enum(["score_only", "hard_cap"]).default("score_only"),
  fairness_mode: z.enum(["off", "round_robin", "random"]).default("round_robin"),
  fairness_epsilon: num({ min: 0 }).optional(),
  fairness_scope: z
    .enum(["provider_model_protocol", "provider_model", "priority_model_protocol"])
    .default("provider_model_protocol"),
  // Prompt-cache affinity (09-decisions): later turns stay on their account.
  affinity: z.enum(["on", "off"]).default("on"),
  affinity_idle_s: num({ gt: 0 }).default(3600),
  // Issue #12: the pin book's size cap; past it the least recently used pin is
  // evicted (and counted), so a flood of new conversations cannot grow the heap.
  affinity_max_pins: num({ int: true, min: 1, max: 1_000_000 }).default(10_000),
  trace: RoutingTraceSchema.prefault({}),
});

export const LimitsSchema = z.object({
  five_hour_microdollars: num({ int: true, gt: 0 }).default(12_000_000),
  weekly_microdollars: num({ int: true, gt: 0 }).default(30_000_000),
  monthly_microdollars: num({ int: true, gt: 0 }).default(60_000_000),
});

const PriceCatalogSchema = z.object({
  enabled: z.boolean().default(false),
  priority: num({ int: true, min: 0 }).default(100),
  ttl_seconds: num({ int: true, gt: 0 }).default(86_400),
  max_entries: num({ int: true, gt: 0 }).default(4096),
  base_url: baseUrl().optional(),
  api_key: z.string().optional(),
  options: looseTable().default({}),
});

export const PricingSchema = z.object({
  fallback: z.enum(["generic_estimate", "off"]).default("generic_estimate"),
  catalogs: z
    .object({
      openrouter: PriceCatalogSchema.prefault({}),
      opencode_zen: PriceCatalogSchema.prefault({}),
      aliases: z.array(looseTable()).default([]),
    })
    .prefault({}),
});

export const DashboardSchema = z.object({
  enabled: z.boolean().default(true),
  public: z.boolean().default(false),
  theme: text().default("Cyber Red"),
  themes_dir: text().optional(),
  retain_request_stats_days: num({ int: true, gt: 0 }).default(30),
  retain_event_days: num({ int: true, gt: 0 }).default(90),
  store_request_content: z
    .boolean()
    .default(false)
    .refine((v) => v === false, "must be false: EggPool never stores request content"),
  refresh_interval_s: num({ int: true, gt: 0 }).default(60),
});
