/**
 * Schema of the operational sections (spec 02 §12): security, metrics,
 * maintenance, backup, readiness probe, shared network client, update checker.
 */

import { z } from "zod";
import { hasControlChars, num, text } from "./schema_fields.ts";

export const SecuritySchema = z.object({
  allowed_hosts: z.array(text()).default([]),
  cors_origins: z.array(text()).default([]),
  trusted_proxies: z
    .array(
      text().refine(
        (v) => v.length <= 64 && !hasControlChars(v),
        "must be a peer address of at most 64 characters without control characters",
      ),
    )
    .default([]),
  redact_headers: z.array(text()).default(["authorization", "x-api-key"]),
  persist_redacted_error_detail: z.boolean().default(false),
});

export const MetricsSchema = z.object({
  // Not in the Python spec (issue #14): serve GET /metrics (Prometheus text, key-gated).
  enabled: z.boolean().default(true),
  write_mode: z.enum(["immediate", "balanced", "low_wear"]).default("low_wear"),
  // Issue #12: low_wear flushes this often. WAL with synchronous = NORMAL does
  // not fsync a commit, so 1 s costs little wear and a crash loses at most
  // about a second of finished requests (docs/reliability.md).
  flush_interval_s: num({ min: 1, max: 600 }).default(1),
  max_buffered_events: num({ int: true, min: 1 }).default(250),
  timeseries_bucket_s: num({ int: true, min: 10, max: 3600 }).default(300),
  trace_sample_rate: num({ min: 0, max: 1 }).default(0.05),
  aggregate_only: z.boolean().default(true),
  rollup_retain_days: num({ int: true, min: 1 }).default(90),
  cleanup_interval_s: num({ gt: 0 }).default(86_400),
  cleanup_max_rows_per_pass: num({ int: true, min: 1 }).default(5000),
  // Lag is always measured (Runtime page, /metrics); false has no effect (key_support.ts).
  event_loop_lag_enabled: z.boolean().default(true),
  dispatch_spans: z
    .object({
      sample_rate: num({ min: 0, max: 1 }).default(0),
      window_size: num({ int: true, min: 1 }).default(200),
    })
    .prefault({}),
  // Deprecated; read only to warn about it.
  detailed_span_sample_rate: num({ min: 0, max: 1 }).optional(),
});

export const MaintenanceSchema = z.object({
  max_rows_per_batch: num({ int: true, min: 50, max: 10_000 }).default(500),
  max_batches_per_tick: num({ int: true, min: 1, max: 20 }).default(4),
  max_tick_duration_ms: num({ int: true, min: 50, max: 10_000 }).default(500),
  contention_defer_above_lock_wait_p95_ms: num({ min: 0 }).default(200),
  max_deferral_age_s: num({ gt: 0 }).default(3600),
  p0_max_rows_per_batch: num({ int: true, min: 50, max: 10_000 }).default(1000),
  p0_max_batches_per_tick: num({ int: true, min: 1, max: 20 }).default(2),
  p0_max_tick_duration_ms: num({ int: true, min: 50, max: 10_000 }).default(1000),
  // Not in the Python spec (issue #12): once serving, a write waits at most
  // this long for another process's lock (SQLite waits on the event loop);
  // failed writes are retried from a timer. Startup keeps busy_timeout_ms.
  write_busy_timeout_ms: num({ int: true, min: 0, max: 1000 }).default(50),
  // Not in the Python spec (issue #12): how often the server checks that the
  // database file at [database] path is still the one it has open.
  db_file_check_interval_s: num({ gt: 0, max: 3600 }).default(10),
});

export const BackupSchema = z.object({
  enabled: z.boolean().default(false),
  interval_s: num({ int: true, gt: 0 }).default(86_400),
  retain_count: num({ int: true, min: 1 }).default(14),
  startup_delay_s: num({ min: 0 }).default(300),
  directory: text().optional(),
  include_env: z.boolean().default(true),
});

export const ReadinessProbeSchema = z.object({
  enabled: z.boolean().default(false),
  interval_s: num({ gt: 0, max: 60 }).default(10),
  freshness_s: num({ gt: 0 }).default(30),
  timeout_s: num({ gt: 0 }).default(5),
  initial_probe: z.boolean().default(true),
});

export const NetworkSchema = z.object({
  connect_timeout_s: num({ gt: 0 }).default(10),
  read_timeout_s: num({ gt: 0 }).default(30),
  max_connections: num({ int: true, min: 1 }).default(8),
  max_keepalive: num({ int: true, min: 0 }).default(2),
  keepalive_expiry_s: num({ min: 0 }).default(90),
});

export const UpdateCheckerSchema = z.object({
  enabled: z.boolean().default(false),
});
