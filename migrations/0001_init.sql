-- 0001_init.sql: the initial EggPool schema.
--
-- Conventions used by every table (later migrations keep them):
--   * Timestamps are INTEGER milliseconds since the Unix epoch, UTC (`Date.now()`).
--     Range scans compare plain integers, buckets are integer division
--     (`started_at / 3600000 * 3600000`), and no time zone or text format is involved.
--     Columns are named `*_at`; NULL means "not yet" (or "never" where noted).
--   * Durations are INTEGER milliseconds (`*_ms`); sizes are INTEGER bytes.
--   * Money is INTEGER microdollars (1 USD = 1 000 000); prices are microdollars per
--     million tokens, so no floating point ever reaches a sum.
--   * Booleans are INTEGER 0/1. JSON is TEXT checked with json_valid() (`*_json`).
--   * Tables are STRICT: a float bound to an INTEGER column is an error, not silently
--     stored as REAL. Round durations before writing them.
--   * Accounts are never deleted (only disabled), so history keeps pointing at them;
--     foreign keys from history tables to accounts have no ON DELETE action.
--     Providers are keyed by their config id (`opencode-go`), models by their upstream
--     id. Request history stores the model id as plain text without a foreign key,
--     so a request for a model that was never in the catalog can still be recorded.

-- Upstream providers, synced from the config at startup; removed ones get enabled = 0.
CREATE TABLE providers (
  id TEXT PRIMARY KEY,
  base_url TEXT NOT NULL,
  -- Protocols the provider speaks, e.g. ["openai","anthropic"].
  protocols_json TEXT NOT NULL DEFAULT '["openai"]' CHECK (json_valid(protocols_json)),
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

-- Upstream accounts. Identity is the integer id, so a rename keeps all history.
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  provider_id TEXT NOT NULL REFERENCES providers (id),
  -- Name of the environment variable holding the key; keys are never stored.
  api_key_env TEXT NOT NULL DEFAULT '',
  -- Short hash of the resolved credential, so an auth backoff can be cleared when the key changes.
  credential_fingerprint TEXT,
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  weight REAL NOT NULL DEFAULT 1.0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE INDEX idx_accounts_provider ON accounts (provider_id);

-- Every model id seen in any provider catalog (the union; per-provider facts live below).
CREATE TABLE models (
  id TEXT PRIMARY KEY,
  display_name TEXT,
  first_seen_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- What one provider says about one model: protocol, limits, capabilities.
CREATE TABLE provider_models (
  provider_id TEXT NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
  model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
  display_name TEXT,
  -- NULL = unresolved: the model is hidden for this provider (spec 03 §1.3).
  protocol TEXT CHECK (protocol IN ('openai', 'anthropic')),
  -- Which rule decided the protocol: config, upstream_metadata, known_id, prefix, ...
  protocol_source TEXT,
  -- Where the row came from: upstream (models endpoint) or static_config.
  source TEXT NOT NULL DEFAULT 'upstream',
  -- Limits as reported upstream or configured statically; NULL = unknown.
  max_context_tokens INTEGER,
  max_input_tokens INTEGER,
  max_output_tokens INTEGER,
  capabilities_json TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(capabilities_json)),
  -- Remaining upstream metadata, kept for diagnostics.
  metadata_json TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata_json)),
  first_seen_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  PRIMARY KEY (provider_id, model_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX idx_provider_models_model ON provider_models (model_id);

-- Which account can serve which model (the catalog support set).
CREATE TABLE account_models (
  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
  first_seen_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  -- Consecutive authoritative refreshes that omitted the model (catalog_withdrawal_policy).
  missed_refreshes INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, model_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX idx_account_models_model ON account_models (model_id, account_id);

-- Per-account catalog refresh state, used for the freshness gate and the dashboard.
CREATE TABLE catalog_state (
  account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  provider_id TEXT NOT NULL REFERENCES providers (id),
  last_attempt_at INTEGER,
  last_success_at INTEGER,
  -- success_authoritative, success_partial, success_empty, failed, skipped.
  last_outcome TEXT,
  last_error TEXT,
  model_count INTEGER NOT NULL DEFAULT 0,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
) STRICT;

-- Price snapshots. A new row is written only when a value changes; the latest
-- row per (provider, model) by captured_at, then id, is the current price.
CREATE TABLE model_prices (
  id INTEGER PRIMARY KEY,
  provider_id TEXT NOT NULL REFERENCES providers (id),
  model_id TEXT NOT NULL,
  -- Microdollars per million tokens; NULL = category not priced.
  input_microdollars_per_mtok INTEGER,
  output_microdollars_per_mtok INTEGER,
  cache_read_microdollars_per_mtok INTEGER,
  cache_write_microdollars_per_mtok INTEGER,
  -- config, upstream, catalog, mixed, default.
  source TEXT NOT NULL,
  source_detail TEXT,
  captured_at INTEGER NOT NULL
) STRICT;

CREATE INDEX idx_model_prices_latest ON model_prices (provider_id, model_id, captured_at DESC, id DESC);
CREATE INDEX idx_model_prices_captured ON model_prices (captured_at);

-- One row per client request, written as 'pending' before any upstream I/O and
-- finalized exactly once. Retention deletes by started_at; attempts and routing
-- decisions go with it (ON DELETE CASCADE).
CREATE TABLE requests (
  id INTEGER PRIMARY KEY,
  proxy_request_id TEXT NOT NULL UNIQUE,
  -- The last selected account/provider; NULL when the request failed before selection.
  account_id INTEGER REFERENCES accounts (id),
  provider_id TEXT REFERENCES providers (id),
  -- Upstream model id actually routed to (no foreign key: unknown models are recorded too).
  model_id TEXT,
  -- The model string exactly as the client sent it, e.g. "glm-4.6/opencode-go".
  requested_model TEXT NOT NULL,
  client_protocol TEXT NOT NULL,
  upstream_protocol TEXT,
  streamed INTEGER NOT NULL DEFAULT 0 CHECK (streamed IN (0, 1)),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (
    status IN ('pending', 'completed', 'client_error', 'cancelled', 'error', 'interrupted')
  ),
  -- HTTP status returned to the client (NULL while pending or when none was sent).
  status_code INTEGER,
  error_class TEXT,
  -- Redacted and truncated by the writer; never a prompt, body or credential.
  error_message TEXT,
  started_at INTEGER NOT NULL,
  first_attempt_at INTEGER,
  -- Set exactly when the status leaves 'pending'.
  completed_at INTEGER,
  attempt_count INTEGER NOT NULL DEFAULT 0,
  -- Token counts. input_tokens are fresh input only (billed at the input price);
  -- cache reads and writes are counted separately, so total input is the sum of the
  -- three. reasoning_tokens are a part of output_tokens, shown separately.
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens INTEGER NOT NULL DEFAULT 0,
  cache_write_tokens INTEGER NOT NULL DEFAULT 0,
  reasoning_tokens INTEGER NOT NULL DEFAULT 0,
  cost_microdollars INTEGER NOT NULL DEFAULT 0,
  cost_exactness TEXT NOT NULL DEFAULT 'unknown' CHECK (
    cost_exactness IN ('exact', 'partial', 'derived', 'estimated', 'provider_reported', 'unknown')
  ),
  -- Wall time from started_at to the last byte sent to the client.
  latency_ms INTEGER,
  -- Time to first byte forwarded to the client (TTFT for streams).
  first_byte_ms INTEGER,
  upstream_connect_ms INTEGER,
  -- Client request body size and bytes sent back to the client.
  bytes_in INTEGER NOT NULL DEFAULT 0,
  bytes_out INTEGER NOT NULL DEFAULT 0,
  client_ip TEXT,
  -- Hash of the conversation key used for prompt-cache affinity (see session_pins).
  session_key_hash TEXT,
  upstream_request_id TEXT,
  CHECK ((status = 'pending') = (completed_at IS NULL))
) STRICT;

-- Dashboard period scans (every page filters on started_at).
CREATE INDEX idx_requests_started ON requests (started_at);
CREATE INDEX idx_requests_status_started ON requests (status, started_at);
CREATE INDEX idx_requests_account_started ON requests (account_id, started_at);
CREATE INDEX idx_requests_provider_model_started ON requests (provider_id, model_id, started_at);
-- Crash recovery, the stale-request finalizer and pending-health. Queries must say
-- `status = 'pending'` literally (not a bound parameter) for SQLite to use it.
CREATE INDEX idx_requests_pending ON requests (started_at) WHERE status = 'pending';

-- One row per upstream attempt of a request (failover makes several).
CREATE TABLE request_attempts (
  id INTEGER PRIMARY KEY,
  request_id INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
  -- 1-based.
  attempt_number INTEGER NOT NULL,
  account_id INTEGER NOT NULL REFERENCES accounts (id),
  provider_id TEXT NOT NULL REFERENCES providers (id),
  model_id TEXT NOT NULL,
  upstream_protocol TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  -- NULL while in flight; crash recovery closes it with error_class 'process_interrupted'.
  completed_at INTEGER,
  status_code INTEGER,
  error_class TEXT,
  error_message TEXT,
  -- quota_exceeded, temporary, transient, auth_failure, model_unavailable, bad_request,
  -- never, fatal, none (spec 03 §9.1); NULL while in flight.
  retry_category TEXT,
  -- Backoff reason written to account_backoffs because of this attempt, if any.
  backoff_reason TEXT,
  latency_ms INTEGER,
  first_byte_ms INTEGER,
  upstream_connect_ms INTEGER,
  bytes_in INTEGER NOT NULL DEFAULT 0,
  bytes_out INTEGER NOT NULL DEFAULT 0,
  upstream_request_id TEXT
) STRICT;

CREATE UNIQUE INDEX idx_request_attempts_request ON request_attempts (request_id, attempt_number);
CREATE INDEX idx_request_attempts_account_started ON request_attempts (account_id, started_at);
CREATE INDEX idx_request_attempts_started ON request_attempts (started_at);

-- Why an account was chosen for an attempt (written only when tracing is on).
CREATE TABLE routing_decisions (
  id INTEGER PRIMARY KEY,
  request_id INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
  attempt_number INTEGER NOT NULL,
  decided_at INTEGER NOT NULL,
  model_id TEXT NOT NULL,
  -- NULL when the request did not name a provider.
  provider_id TEXT,
  client_protocol TEXT NOT NULL,
  strategy TEXT NOT NULL,
  -- NULL when no account could be selected.
  selected_account_id INTEGER REFERENCES accounts (id),
  selected_score REAL,
  eligible_count INTEGER NOT NULL DEFAULT 0,
  -- [{account_id, account_name, score, components:{...}, tier}, ...] in ranked order.
  candidates_json TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(candidates_json)),
  -- [{account_id, account_name, reason}, ...] for every account that was excluded.
  exclusions_json TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(exclusions_json))
) STRICT;

CREATE INDEX idx_routing_decisions_request ON routing_decisions (request_id);
CREATE INDEX idx_routing_decisions_decided ON routing_decisions (decided_at);

-- Persisted suppressions (spec 03 §9.2). model_id NULL = the whole account;
-- backoff_until NULL = terminal (only authentication_failed).
CREATE TABLE account_backoffs (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  model_id TEXT,
  reason TEXT NOT NULL CHECK (
    reason IN (
      'authentication_failed', 'quota_exhausted', 'rate_limited', 'upstream_server_error',
      'connect_timeout', 'connection_failure', 'protocol_error', 'model_unavailable'
    )
  ),
  status_code INTEGER,
  error_class TEXT,
  consecutive_failures INTEGER NOT NULL DEFAULT 1,
  backoff_until INTEGER,
  -- Fingerprint of the credential that failed; an auth row whose fingerprint differs
  -- from the account's current one is stale and gets cleared.
  credential_fingerprint TEXT,
  first_failure_at INTEGER NOT NULL,
  last_failure_at INTEGER NOT NULL
) STRICT;

-- One row per (account, model or account-wide, reason). ifnull() makes the
-- account-wide rows unique too (SQLite treats NULLs as distinct); upserts name
-- the same expression: ON CONFLICT (account_id, ifnull(model_id, ''), reason).
CREATE UNIQUE INDEX idx_account_backoffs_key ON account_backoffs (
  account_id, ifnull(model_id, ''), reason
);
CREATE INDEX idx_account_backoffs_until ON account_backoffs (backoff_until);

-- Conversation → account pins for prompt-cache affinity: later turns of a
-- conversation stay on the account that served the first one.
CREATE TABLE session_pins (
  session_key_hash TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  provider_id TEXT NOT NULL REFERENCES providers (id),
  model_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  turn_count INTEGER NOT NULL DEFAULT 1
) STRICT, WITHOUT ROWID;

CREATE INDEX idx_session_pins_last_used ON session_pins (last_used_at);
CREATE INDEX idx_session_pins_account ON session_pins (account_id, last_used_at);

-- Catalog fetches double as latency pings (spec 03 §1.2).
CREATE TABLE provider_pings (
  id INTEGER PRIMARY KEY,
  provider_id TEXT NOT NULL REFERENCES providers (id),
  account_id INTEGER REFERENCES accounts (id),
  probed_at INTEGER NOT NULL,
  latency_ms INTEGER,
  -- NULL when no HTTP response arrived (network error, timeout).
  status_code INTEGER,
  error TEXT,
  model_count INTEGER
) STRICT;

CREATE INDEX idx_provider_pings_provider_probed ON provider_pings (provider_id, probed_at);
CREATE INDEX idx_provider_pings_probed ON provider_pings (probed_at);

-- Account-level happenings shown on the Events page: crash_recovery, upstream_error,
-- interrupted, backoff changes, catalog changes, ...
CREATE TABLE account_events (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts (id),
  event_type TEXT NOT NULL,
  details_json TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details_json)),
  occurred_at INTEGER NOT NULL
) STRICT;

CREATE INDEX idx_account_events_occurred ON account_events (occurred_at);
CREATE INDEX idx_account_events_type_occurred ON account_events (event_type, occurred_at);

-- Process-level happenings: crash_recovery, stale_request_finalizer, retention, ...
CREATE TABLE operational_events (
  id INTEGER PRIMARY KEY,
  event_type TEXT NOT NULL,
  details_json TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details_json)),
  occurred_at INTEGER NOT NULL
) STRICT;

CREATE INDEX idx_operational_events_occurred ON operational_events (occurred_at);
CREATE INDEX idx_operational_events_type_occurred ON operational_events (event_type, occurred_at);

-- Additive counters per time bucket, upserted when requests are finalized, so long
-- dashboard windows and quota windows need not rescan `requests`. Dimensions that
-- can be absent use sentinels instead of NULL so the primary key stays exact:
-- account_id 0, provider_id '' and model_id '' mean "none".
CREATE TABLE usage_rollups (
  bucket_ms INTEGER NOT NULL,
  -- Floor-aligned to bucket_ms, UTC.
  bucket_start INTEGER NOT NULL,
  account_id INTEGER NOT NULL,
  provider_id TEXT NOT NULL,
  model_id TEXT NOT NULL,
  client_protocol TEXT NOT NULL,
  streamed INTEGER NOT NULL CHECK (streamed IN (0, 1)),
  -- Terminal request status (never 'pending').
  status TEXT NOT NULL,
  request_count INTEGER NOT NULL DEFAULT 0,
  attempt_count INTEGER NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cache_read_tokens INTEGER NOT NULL DEFAULT 0,
  cache_write_tokens INTEGER NOT NULL DEFAULT 0,
  reasoning_tokens INTEGER NOT NULL DEFAULT 0,
  cost_microdollars INTEGER NOT NULL DEFAULT 0,
  bytes_in INTEGER NOT NULL DEFAULT 0,
  bytes_out INTEGER NOT NULL DEFAULT 0,
  latency_ms_sum INTEGER NOT NULL DEFAULT 0,
  latency_count INTEGER NOT NULL DEFAULT 0,
  latency_ms_max INTEGER NOT NULL DEFAULT 0,
  first_byte_ms_sum INTEGER NOT NULL DEFAULT 0,
  first_byte_count INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (
    bucket_ms, bucket_start, account_id, provider_id, model_id, client_protocol, streamed, status
  )
) STRICT, WITHOUT ROWID;
