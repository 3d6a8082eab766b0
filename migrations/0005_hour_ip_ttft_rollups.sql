-- More rollups for the stats API on long periods (issue #14), in the way of
-- 0004's day rollups: each table holds sums over `requests` per time slot
-- and key, a period reads its whole slots from here and its partial slots at
-- both ends from `requests` (src/stats/queries/_slots.ts), and the tables
-- (all but the TTFT cache, see ttft_days) stay equal to the sums over the
-- rows through the recorder's insert, finalize and pending sweep
-- (src/storage/day_rollups_repo.ts adds each batch's contributions, one
-- upsert per key) and retention deletes (the trigger below). Keys use 0 for a NULL account and '' for a NULL provider,
-- model or client IP; counters are REAL like SQL total().
--
-- Hour buckets of /api/stats/timeseries and /api/timeseries/grouped: one row
-- per UTC hour and (provider, model), and one per UTC hour and account. Two
-- narrow keys instead of (account, provider, model): a 30-day view reads
-- about 15 000 rows instead of 23 000 on the 1M-row seed, and a batch of
-- requests upserts fewer rows. A view that needs an account and a model at
-- once (an account filter with a model grouping, or the reverse) sums rows.
CREATE TABLE request_hours (
  hour INTEGER NOT NULL,
  provider_id TEXT NOT NULL,
  model_id TEXT NOT NULL,
  n REAL NOT NULL,
  successful REAL NOT NULL,
  errors REAL NOT NULL,
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
  PRIMARY KEY (hour, provider_id, model_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE account_hours (
  hour INTEGER NOT NULL,
  account_id INTEGER NOT NULL,
  n REAL NOT NULL,
  successful REAL NOT NULL,
  errors REAL NOT NULL,
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
  PRIMARY KEY (hour, account_id)
) STRICT, WITHOUT ROWID;

-- /api/stats/ips: one row per UTC day and client IP. first_at and last_at
-- are the day's first and last start of that IP; a retention delete that
-- removes one of them looks up the next one among the remaining rows.
CREATE TABLE client_ip_days (
  day INTEGER NOT NULL,
  client_ip TEXT NOT NULL,
  n REAL NOT NULL,
  errors REAL NOT NULL,
  rejected REAL NOT NULL,
  tokens REAL NOT NULL,
  bytes_in REAL NOT NULL,
  bytes_out REAL NOT NULL,
  first_at INTEGER,
  last_at INTEGER,
  PRIMARY KEY (day, client_ip)
) STRICT, WITHOUT ROWID;

-- TTFT histogram buckets, by lower bound in ms: 1 ms wide up to 100 ms, then
-- each bucket floor(lo / 50) ms wide, at most 2 % of its lower bound, up to
-- 10^9 ms. src/storage/ttft_buckets.ts builds the same list; a percentile read
-- from the histogram is the mean of the values in its bucket, so it is exact
-- when they are all equal and otherwise off by less than 2 %.
CREATE TABLE ttft_buckets (lo INTEGER PRIMARY KEY) STRICT;
WITH RECURSIVE b(lo) AS (SELECT 0 UNION ALL SELECT lo + max(1, lo / 50) FROM b WHERE lo < 1000000000)
INSERT INTO ttft_buckets SELECT lo FROM b;

-- Streamed requests' first_byte_ms per UTC day, (provider, model) and bucket:
-- how many and their sum (TTFT percentiles and averages of /api/stats/latency).
-- Unlike the other rollups this one is a cache filled when a period is read:
-- nearly every streamed request lands in a bucket of its own, so adding it
-- at write time cost an upsert per request. A day's rows count only while
-- the day is in ttft_days_done; a write that adds a TTFT to a day (the
-- recorder, src/storage/day_rollups_repo.ts) and a retention delete (the
-- trigger) take the day out, and the next read sums it from `requests` again
-- (src/stats/queries/latency.ts).
CREATE TABLE ttft_days (
  day INTEGER NOT NULL,
  provider_id TEXT NOT NULL,
  model_id TEXT NOT NULL,
  lo INTEGER NOT NULL,
  n REAL NOT NULL,
  ms REAL NOT NULL,
  PRIMARY KEY (day, provider_id, model_id, lo)
) STRICT, WITHOUT ROWID;

CREATE TABLE ttft_days_done (day INTEGER PRIMARY KEY) STRICT;

-- The phases of completed requests' time per UTC day (/api/stats/latency):
-- rows with first_attempt_at, first_byte_ms and latency_ms, and the sums of
-- EggPool's overhead, the upstream wait, the read and the whole latency.
CREATE TABLE phase_days (
  day INTEGER PRIMARY KEY,
  n REAL NOT NULL,
  overhead REAL NOT NULL,
  wait REAL NOT NULL,
  read REAL NOT NULL,
  latency REAL NOT NULL
) STRICT;

INSERT INTO request_hours
SELECT (started_at / 3600000) * 3600000, coalesce(provider_id, ''), coalesce(model_id, ''),
  count(*), total(status = 'completed'),
  total(status = 'error' OR status = 'interrupted'), total(input_tokens), total(output_tokens),
  total(cache_read_tokens), total(cache_write_tokens), total(reasoning_tokens),
  total(cost_microdollars), total(bytes_in), total(bytes_out),
  total(CASE WHEN attempt_count > 0 THEN latency_ms END),
  count(CASE WHEN attempt_count > 0 THEN latency_ms END),
  total(CASE WHEN streamed = 1 THEN first_byte_ms END),
  count(CASE WHEN streamed = 1 THEN first_byte_ms END)
FROM requests GROUP BY 1, 2, 3;

INSERT INTO account_hours
SELECT (started_at / 3600000) * 3600000, coalesce(account_id, 0),
  count(*), total(status = 'completed'),
  total(status = 'error' OR status = 'interrupted'), total(input_tokens), total(output_tokens),
  total(cache_read_tokens), total(cache_write_tokens), total(reasoning_tokens),
  total(cost_microdollars), total(bytes_in), total(bytes_out),
  total(CASE WHEN attempt_count > 0 THEN latency_ms END),
  count(CASE WHEN attempt_count > 0 THEN latency_ms END),
  total(CASE WHEN streamed = 1 THEN first_byte_ms END),
  count(CASE WHEN streamed = 1 THEN first_byte_ms END)
FROM requests GROUP BY 1, 2;

INSERT INTO client_ip_days
SELECT (started_at / 86400000) * 86400000, coalesce(client_ip, ''), count(*),
  total(status = 'error' OR status = 'interrupted'),
  total(status = 'client_error' AND attempt_count = 0), total(input_tokens + output_tokens),
  total(bytes_in), total(bytes_out), min(started_at), max(started_at)
FROM requests GROUP BY 1, 2;

INSERT INTO ttft_days
SELECT (started_at / 86400000) * 86400000, coalesce(provider_id, ''), coalesce(model_id, ''),
  coalesce((SELECT max(b.lo) FROM ttft_buckets b WHERE b.lo <= first_byte_ms), 0),
  count(*), total(first_byte_ms)
FROM requests WHERE streamed = 1 AND first_byte_ms IS NOT NULL
GROUP BY 1, 2, 3, 4;

INSERT INTO ttft_days_done SELECT DISTINCT (started_at / 86400000) * 86400000 FROM requests;

INSERT INTO phase_days
SELECT (started_at / 86400000) * 86400000, count(*), total(first_attempt_at - started_at),
  total(first_byte_ms - (first_attempt_at - started_at)), total(latency_ms - first_byte_ms),
  total(latency_ms)
FROM requests WHERE status = 'completed' AND first_attempt_at IS NOT NULL
  AND first_byte_ms IS NOT NULL AND latency_ms IS NOT NULL
GROUP BY 1;

-- Retention deletes (off the request path) take a row's contributions out.
CREATE TRIGGER request_rollups_0005_delete AFTER DELETE ON requests BEGIN
  INSERT INTO request_hours VALUES (
    (OLD.started_at / 3600000) * 3600000, coalesce(OLD.provider_id, ''),
    coalesce(OLD.model_id, ''),
    -1, -(OLD.status = 'completed'), -(OLD.status = 'error' OR OLD.status = 'interrupted'),
    -OLD.input_tokens, -OLD.output_tokens, -OLD.cache_read_tokens, -OLD.cache_write_tokens,
    -OLD.reasoning_tokens, -OLD.cost_microdollars, -OLD.bytes_in, -OLD.bytes_out,
    -(CASE WHEN OLD.attempt_count > 0 THEN coalesce(OLD.latency_ms, 0) ELSE 0 END),
    -(OLD.attempt_count > 0 AND OLD.latency_ms IS NOT NULL),
    -(CASE WHEN OLD.streamed = 1 THEN coalesce(OLD.first_byte_ms, 0) ELSE 0 END),
    -(OLD.streamed = 1 AND OLD.first_byte_ms IS NOT NULL)
  ) ON CONFLICT DO UPDATE SET
    n = n + excluded.n, successful = successful + excluded.successful,
    errors = errors + excluded.errors, input = input + excluded.input,
    output = output + excluded.output, cache_read = cache_read + excluded.cache_read,
    cache_write = cache_write + excluded.cache_write, reasoning = reasoning + excluded.reasoning,
    cost = cost + excluded.cost, bytes_in = bytes_in + excluded.bytes_in,
    bytes_out = bytes_out + excluded.bytes_out, latency_sum = latency_sum + excluded.latency_sum,
    latency_n = latency_n + excluded.latency_n, ttft_sum = ttft_sum + excluded.ttft_sum,
    ttft_n = ttft_n + excluded.ttft_n;
  INSERT INTO account_hours VALUES (
    (OLD.started_at / 3600000) * 3600000, coalesce(OLD.account_id, 0),
    -1, -(OLD.status = 'completed'), -(OLD.status = 'error' OR OLD.status = 'interrupted'),
    -OLD.input_tokens, -OLD.output_tokens, -OLD.cache_read_tokens, -OLD.cache_write_tokens,
    -OLD.reasoning_tokens, -OLD.cost_microdollars, -OLD.bytes_in, -OLD.bytes_out,
    -(CASE WHEN OLD.attempt_count > 0 THEN coalesce(OLD.latency_ms, 0) ELSE 0 END),
    -(OLD.attempt_count > 0 AND OLD.latency_ms IS NOT NULL),
    -(CASE WHEN OLD.streamed = 1 THEN coalesce(OLD.first_byte_ms, 0) ELSE 0 END),
    -(OLD.streamed = 1 AND OLD.first_byte_ms IS NOT NULL)
  ) ON CONFLICT DO UPDATE SET
    n = n + excluded.n, successful = successful + excluded.successful,
    errors = errors + excluded.errors, input = input + excluded.input,
    output = output + excluded.output, cache_read = cache_read + excluded.cache_read,
    cache_write = cache_write + excluded.cache_write, reasoning = reasoning + excluded.reasoning,
    cost = cost + excluded.cost, bytes_in = bytes_in + excluded.bytes_in,
    bytes_out = bytes_out + excluded.bytes_out, latency_sum = latency_sum + excluded.latency_sum,
    latency_n = latency_n + excluded.latency_n, ttft_sum = ttft_sum + excluded.ttft_sum,
    ttft_n = ttft_n + excluded.ttft_n;
  UPDATE client_ip_days SET n = n - 1,
    errors = errors - (OLD.status = 'error' OR OLD.status = 'interrupted'),
    rejected = rejected - (OLD.status = 'client_error' AND OLD.attempt_count = 0),
    tokens = tokens - (OLD.input_tokens + OLD.output_tokens),
    bytes_in = bytes_in - OLD.bytes_in, bytes_out = bytes_out - OLD.bytes_out,
    first_at = CASE WHEN first_at = OLD.started_at THEN (
      SELECT r.started_at FROM requests r WHERE r.started_at >= OLD.started_at
        AND r.started_at < (OLD.started_at / 86400000 + 1) * 86400000
        AND r.client_ip IS OLD.client_ip ORDER BY r.started_at LIMIT 1) ELSE first_at END,
    last_at = CASE WHEN last_at = OLD.started_at THEN (
      SELECT r.started_at FROM requests r WHERE r.started_at <= OLD.started_at
        AND r.started_at >= (OLD.started_at / 86400000) * 86400000
        AND r.client_ip IS OLD.client_ip ORDER BY r.started_at DESC LIMIT 1) ELSE last_at END
  WHERE day = (OLD.started_at / 86400000) * 86400000 AND client_ip = coalesce(OLD.client_ip, '');
  DELETE FROM ttft_days_done WHERE OLD.streamed = 1 AND OLD.first_byte_ms IS NOT NULL
    AND day = (OLD.started_at / 86400000) * 86400000;
  DELETE FROM ttft_days WHERE OLD.streamed = 1 AND OLD.first_byte_ms IS NOT NULL
    AND day = (OLD.started_at / 86400000) * 86400000;
  UPDATE phase_days SET n = n - 1, overhead = overhead - (OLD.first_attempt_at - OLD.started_at),
    wait = wait - (OLD.first_byte_ms - (OLD.first_attempt_at - OLD.started_at)),
    read = read - (OLD.latency_ms - OLD.first_byte_ms), latency = latency - OLD.latency_ms
  WHERE OLD.status = 'completed' AND OLD.first_attempt_at IS NOT NULL
    AND OLD.first_byte_ms IS NOT NULL AND OLD.latency_ms IS NOT NULL
    AND day = (OLD.started_at / 86400000) * 86400000;
  -- Rows whose requests are all gone leave, so a retention window keeps these
  -- tables the size of the window.
  DELETE FROM request_hours WHERE hour = (OLD.started_at / 3600000) * 3600000
    AND provider_id = coalesce(OLD.provider_id, '') AND model_id = coalesce(OLD.model_id, '')
    AND n = 0;
  DELETE FROM account_hours WHERE hour = (OLD.started_at / 3600000) * 3600000
    AND account_id = coalesce(OLD.account_id, 0) AND n = 0;
  DELETE FROM client_ip_days WHERE day = (OLD.started_at / 86400000) * 86400000
    AND client_ip = coalesce(OLD.client_ip, '') AND n = 0;
  DELETE FROM phase_days WHERE day = (OLD.started_at / 86400000) * 86400000 AND n = 0;
END;
