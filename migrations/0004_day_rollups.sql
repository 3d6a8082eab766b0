-- Day rollups for the stats API on long periods (issue #14). A 30-day view
-- summed ~80 000 request rows per call; these tables hold one row per UTC day
-- and (account, provider, model, routed) and one per day and (excluded
-- account, reason), so the whole days of a period are read from a few
-- thousand rows and only the partial days at its ends from `requests`
-- (src/stats/queries/_days.ts).
--
-- They stay equal to the sums over `requests` through every change to a row:
-- the insert, the finalize of a pending row, the sweep that marks leftovers
-- interrupted (all written with the row, see below), retention deletes (a
-- trigger). Counters are REAL like SQL total(): an addition never overflows
-- and sums stay exact below 2^53.
--
-- Keys use 0 for a NULL account and '' for a NULL provider or model (a
-- WITHOUT ROWID key cannot hold NULL); the readers map them back.
CREATE TABLE request_days (
  day INTEGER NOT NULL,
  account_id INTEGER NOT NULL,
  provider_id TEXT NOT NULL,
  model_id TEXT NOT NULL,
  -- attempt_count > 0: an upstream was asked.
  routed INTEGER NOT NULL,
  n REAL NOT NULL,
  successful REAL NOT NULL,
  errors REAL NOT NULL,
  interrupted REAL NOT NULL,
  client_errors REAL NOT NULL,
  cancelled REAL NOT NULL,
  pending REAL NOT NULL,
  streamed REAL NOT NULL,
  failed_over REAL NOT NULL,
  x_exact REAL NOT NULL,
  x_derived REAL NOT NULL,
  x_partial REAL NOT NULL,
  x_estimated REAL NOT NULL,
  x_unknown REAL NOT NULL,
  x_provider_reported REAL NOT NULL,
  pr_cost REAL NOT NULL,
  est_cost REAL NOT NULL,
  input REAL NOT NULL,
  output REAL NOT NULL,
  cache_read REAL NOT NULL,
  cache_write REAL NOT NULL,
  reasoning REAL NOT NULL,
  cost REAL NOT NULL,
  bytes_in REAL NOT NULL,
  bytes_out REAL NOT NULL,
  latency_sum REAL NOT NULL,
  latency_n REAL NOT NULL,
  ttft_sum REAL NOT NULL,
  ttft_n REAL NOT NULL,
  tps_tokens REAL NOT NULL,
  tps_ms REAL NOT NULL,
  PRIMARY KEY (day, account_id, provider_id, model_id, routed)
) STRICT, WITHOUT ROWID;

CREATE TABLE routing_exclusion_days (
  day INTEGER NOT NULL,
  -- The excluded account's id (0 when the decision did not name one).
  account_id INTEGER NOT NULL,
  reason TEXT NOT NULL,
  -- Decisions that left the account out, and requests with at least one.
  exclusions REAL NOT NULL,
  requests REAL NOT NULL,
  PRIMARY KEY (day, account_id, reason)
) STRICT, WITHOUT ROWID;

INSERT INTO request_days
SELECT (started_at / 86400000) * 86400000, coalesce(account_id, 0), coalesce(provider_id, ''),
  coalesce(model_id, ''), attempt_count > 0,
  count(*), total(status = 'completed'), total(status = 'error' OR status = 'interrupted'),
  total(status = 'interrupted'), total(status = 'client_error'), total(status = 'cancelled'),
  total(status = 'pending'), total(streamed = 1), total(attempt_count > 1),
  total(cost_exactness = 'exact'), total(cost_exactness = 'derived'),
  total(cost_exactness = 'partial'), total(cost_exactness = 'estimated'),
  total(cost_exactness = 'unknown'), total(cost_exactness = 'provider_reported'),
  total(CASE WHEN cost_exactness = 'provider_reported' THEN cost_microdollars END),
  total(CASE WHEN cost_exactness = 'estimated' THEN cost_microdollars END),
  total(input_tokens), total(output_tokens), total(cache_read_tokens), total(cache_write_tokens),
  total(reasoning_tokens), total(cost_microdollars), total(bytes_in), total(bytes_out),
  total(CASE WHEN attempt_count > 0 THEN latency_ms END),
  count(CASE WHEN attempt_count > 0 THEN latency_ms END),
  total(CASE WHEN streamed = 1 THEN first_byte_ms END),
  count(CASE WHEN streamed = 1 THEN first_byte_ms END),
  total(CASE WHEN status = 'completed' AND output_tokens > 0 THEN output_tokens END),
  total(CASE WHEN status = 'completed' AND output_tokens > 0 THEN latency_ms END)
FROM requests GROUP BY 1, 2, 3, 4, 5;

INSERT INTO routing_exclusion_days
SELECT (r.started_at / 86400000) * 86400000, coalesce(json_extract(e.value, '$[0]'), 0),
  coalesce(json_extract(e.value, '$[1]'), ''), count(*), count(DISTINCT r.id)
FROM requests r, json_each(r.routing_json) d, json_each(d.value, '$[7]') e
WHERE r.routing_json IS NOT NULL
GROUP BY 1, 2, 3;

-- Inserts, finalizes and the pending sweep add their rows' contributions in
-- the recorder's batched transaction (src/storage/day_rollups_repo.ts): summed
-- in memory, one upsert per key and batch. A trigger per insert cost +19 µs
-- of SQLite CPU per row. Retention deletes, off the request path, take
-- theirs out here.
CREATE TRIGGER request_days_delete AFTER DELETE ON requests BEGIN
  INSERT INTO request_days VALUES (
    (OLD.started_at / 86400000) * 86400000, coalesce(OLD.account_id, 0),
    coalesce(OLD.provider_id, ''), coalesce(OLD.model_id, ''), OLD.attempt_count > 0,
    -1, -(OLD.status = 'completed'), -(OLD.status = 'error' OR OLD.status = 'interrupted'),
    -(OLD.status = 'interrupted'), -(OLD.status = 'client_error'), -(OLD.status = 'cancelled'),
    -(OLD.status = 'pending'), -(OLD.streamed = 1), -(OLD.attempt_count > 1),
    -(OLD.cost_exactness = 'exact'), -(OLD.cost_exactness = 'derived'),
    -(OLD.cost_exactness = 'partial'), -(OLD.cost_exactness = 'estimated'),
    -(OLD.cost_exactness = 'unknown'), -(OLD.cost_exactness = 'provider_reported'),
    -(CASE WHEN OLD.cost_exactness = 'provider_reported' THEN OLD.cost_microdollars ELSE 0 END),
    -(CASE WHEN OLD.cost_exactness = 'estimated' THEN OLD.cost_microdollars ELSE 0 END),
    -OLD.input_tokens, -OLD.output_tokens, -OLD.cache_read_tokens, -OLD.cache_write_tokens,
    -OLD.reasoning_tokens, -OLD.cost_microdollars, -OLD.bytes_in, -OLD.bytes_out,
    -(CASE WHEN OLD.attempt_count > 0 THEN coalesce(OLD.latency_ms, 0) ELSE 0 END),
    -(OLD.attempt_count > 0 AND OLD.latency_ms IS NOT NULL),
    -(CASE WHEN OLD.streamed = 1 THEN coalesce(OLD.first_byte_ms, 0) ELSE 0 END),
    -(OLD.streamed = 1 AND OLD.first_byte_ms IS NOT NULL),
    -(CASE WHEN OLD.status = 'completed' AND OLD.output_tokens > 0
      THEN OLD.output_tokens ELSE 0 END),
    -(CASE WHEN OLD.status = 'completed' AND OLD.output_tokens > 0
      THEN coalesce(OLD.latency_ms, 0) ELSE 0 END)
  ) ON CONFLICT DO UPDATE SET
    n = n + excluded.n, successful = successful + excluded.successful,
    errors = errors + excluded.errors, interrupted = interrupted + excluded.interrupted,
    client_errors = client_errors + excluded.client_errors,
    cancelled = cancelled + excluded.cancelled, pending = pending + excluded.pending,
    streamed = streamed + excluded.streamed, failed_over = failed_over + excluded.failed_over,
    x_exact = x_exact + excluded.x_exact, x_derived = x_derived + excluded.x_derived,
    x_partial = x_partial + excluded.x_partial, x_estimated = x_estimated + excluded.x_estimated,
    x_unknown = x_unknown + excluded.x_unknown,
    x_provider_reported = x_provider_reported + excluded.x_provider_reported,
    pr_cost = pr_cost + excluded.pr_cost, est_cost = est_cost + excluded.est_cost,
    input = input + excluded.input, output = output + excluded.output,
    cache_read = cache_read + excluded.cache_read,
    cache_write = cache_write + excluded.cache_write, reasoning = reasoning + excluded.reasoning,
    cost = cost + excluded.cost, bytes_in = bytes_in + excluded.bytes_in,
    bytes_out = bytes_out + excluded.bytes_out, latency_sum = latency_sum + excluded.latency_sum,
    latency_n = latency_n + excluded.latency_n, ttft_sum = ttft_sum + excluded.ttft_sum,
    ttft_n = ttft_n + excluded.ttft_n, tps_tokens = tps_tokens + excluded.tps_tokens,
    tps_ms = tps_ms + excluded.tps_ms;
  INSERT INTO routing_exclusion_days
  SELECT (OLD.started_at / 86400000) * 86400000, coalesce(json_extract(e.value, '$[0]'), 0),
    coalesce(json_extract(e.value, '$[1]'), ''), -count(*), -1
  FROM json_each(OLD.routing_json) d, json_each(d.value, '$[7]') e
  WHERE OLD.routing_json IS NOT NULL
  GROUP BY 1, 2, 3
  ON CONFLICT DO UPDATE SET
    exclusions = exclusions + excluded.exclusions, requests = requests + excluded.requests;
END;
