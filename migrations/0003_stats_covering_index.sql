-- The stats API over long periods (issue #14): a 30-day view sums about
-- 80 000 request rows at a million rows a year, and reading each row from
-- the table (its routing_json makes rows wide and spill onto overflow pages)
-- took ~200 ms per statement. idx_requests_started now carries every column
-- the period sums read, so they scan the index alone, in time order.
--
-- It replaces the old one-column index instead of adding a second one: an
-- insert still updates the same number of B-trees, only with a wider entry
-- that lands at the end of the index (started_at grows).
DROP INDEX idx_requests_started;
CREATE INDEX idx_requests_started ON requests (
  started_at, status, attempt_count, streamed, account_id, provider_id, model_id,
  cost_exactness, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
  reasoning_tokens, cost_microdollars, latency_ms, first_byte_ms, first_attempt_at, bytes_in,
  bytes_out, status_code, client_ip
);
