-- Day rollups of upstream attempts and routing decisions (issue #14, the
-- attempts, selections, skew, retries and decision counts of the Reliability
-- and Routing pages). Like request_days (0004), whole UTC days of a period
-- are read from here and only the partial days at its ends from the rows
-- (src/stats/queries/attempt_days.ts); the writer keeps them equal to sums
-- over the rows (src/storage/day_rollups_repo.ts) and a trigger takes a
-- deleted request's share out.
--
-- An attempt is what the stats count as one (src/stats/queries/latency.ts):
-- each `request_attempts` row, and for a request with a single attempt and
-- no row (it succeeded) one successful attempt described by the request row.
-- Attempts count on their request's day.
CREATE TABLE attempt_days (
  day INTEGER NOT NULL,
  account_id INTEGER NOT NULL,
  -- '' when the request row named no provider.
  provider_id TEXT NOT NULL,
  -- 1: the attempt recorded no error class.
  ok INTEGER NOT NULL,
  -- A failed attempt's retry category ('' when none, and for ok attempts).
  category TEXT NOT NULL,
  n REAL NOT NULL,
  -- Attempts numbered 1: the routing's first choice.
  first REAL NOT NULL,
  -- Counted once per request, on its lowest-numbered attempt: requests with
  -- attempts, and those of them with more than one.
  requests REAL NOT NULL,
  retried REAL NOT NULL,
  -- Counted once per request and category, on its first failed attempt of it.
  category_requests REAL NOT NULL,
  bytes_out REAL NOT NULL,
  latency_sum REAL NOT NULL,
  latency_n REAL NOT NULL,
  PRIMARY KEY (day, account_id, provider_id, ok, category)
) STRICT, WITHOUT ROWID;

-- Attempt latencies per day in buckets (64 ms wide below 4 096 ms, 1 024 ms
-- above): a percentile finds its bucket here and reads only that bucket's
-- values from the rows. One row per day holding a JSON object of counts by
-- bucket ({"7": 120, ...}): the writer rewrites it once per batch, where a
-- row per bucket cost ~45 upserts per batch of 100 requests.
CREATE TABLE attempt_latency_days (
  day INTEGER NOT NULL PRIMARY KEY,
  buckets TEXT NOT NULL
) STRICT, WITHOUT ROWID;

-- Routing decisions stored per day (one per element of requests.routing_json)
-- and the sum of their eligible counts.
CREATE TABLE decision_days (
  day INTEGER NOT NULL PRIMARY KEY,
  decisions REAL NOT NULL,
  eligible REAL NOT NULL
) STRICT, WITHOUT ROWID;

INSERT INTO attempt_days
SELECT d, account_id, provider_id, ok, category, count(*), total(first), total(head),
  total(head AND multi), total(category_head), total(bytes_out), total(latency_ms),
  count(latency_ms)
FROM (
  SELECT (r.started_at / 86400000) * 86400000 AS d, ra.account_id, ra.provider_id,
    ra.error_class IS NULL AS ok,
    CASE WHEN ra.error_class IS NULL THEN '' ELSE coalesce(ra.retry_category, '') END AS category,
    ra.attempt_number = 1 AS first,
    ra.attempt_number = (SELECT min(x.attempt_number) FROM request_attempts x
      WHERE x.request_id = ra.request_id) AS head,
    (SELECT count(*) FROM request_attempts x WHERE x.request_id = ra.request_id) > 1 AS multi,
    ra.error_class IS NOT NULL AND ra.attempt_number = (SELECT min(x.attempt_number)
      FROM request_attempts x WHERE x.request_id = ra.request_id AND x.error_class IS NOT NULL
      AND x.retry_category IS ra.retry_category) AS category_head,
    ra.bytes_out, ra.latency_ms
  FROM request_attempts ra JOIN requests r ON r.id = ra.request_id
  UNION ALL
  SELECT (r.started_at / 86400000) * 86400000, r.account_id, coalesce(r.provider_id, ''), 1, '',
    1, 1, 0, 0, r.bytes_out, r.latency_ms
  FROM requests r WHERE r.attempt_count = 1 AND r.account_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM request_attempts x WHERE x.request_id = r.id)
)
GROUP BY 1, 2, 3, 4, 5;

INSERT INTO attempt_latency_days
SELECT d, json_group_object(CAST(b AS TEXT), n) FROM (
  SELECT d, CASE WHEN ms < 4096 THEN max(0, ms / 64) ELSE 64 + ms / 1024 END AS b, count(*) AS n
  FROM (
    SELECT (r.started_at / 86400000) * 86400000 AS d, ra.latency_ms AS ms
    FROM request_attempts ra JOIN requests r ON r.id = ra.request_id
    WHERE ra.latency_ms IS NOT NULL
    UNION ALL
    SELECT (r.started_at / 86400000) * 86400000, r.latency_ms
    FROM requests r WHERE r.attempt_count = 1 AND r.account_id IS NOT NULL
      AND r.latency_ms IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM request_attempts x WHERE x.request_id = r.id)
  )
  GROUP BY 1, 2 ORDER BY 1, 2
)
GROUP BY d;

INSERT INTO decision_days
SELECT (r.started_at / 86400000) * 86400000, count(*), total(json_extract(d.value, '$[5]'))
FROM requests r, json_each(r.routing_json) d
WHERE r.routing_json IS NOT NULL
GROUP BY 1;

-- Before the delete, while the request's attempts are still there (ON DELETE
-- CASCADE removes them with it).
CREATE TRIGGER attempt_days_delete BEFORE DELETE ON requests BEGIN
  INSERT INTO attempt_days
  SELECT (OLD.started_at / 86400000) * 86400000, ra.account_id, ra.provider_id,
    ra.error_class IS NULL,
    CASE WHEN ra.error_class IS NULL THEN '' ELSE coalesce(ra.retry_category, '') END,
    -count(*), -total(ra.attempt_number = 1), -total(ra.attempt_number = h.head),
    -total(ra.attempt_number = h.head AND h.n > 1),
    -total(ra.error_class IS NOT NULL AND ra.attempt_number = (SELECT min(x.attempt_number)
      FROM request_attempts x WHERE x.request_id = OLD.id AND x.error_class IS NOT NULL
      AND x.retry_category IS ra.retry_category)),
    -total(ra.bytes_out), -total(ra.latency_ms), -count(ra.latency_ms)
  FROM request_attempts ra,
    (SELECT min(attempt_number) AS head, count(*) AS n FROM request_attempts
      WHERE request_id = OLD.id) h
  WHERE ra.request_id = OLD.id
  GROUP BY 1, 2, 3, 4, 5
  ON CONFLICT DO UPDATE SET n = n + excluded.n, first = first + excluded.first,
    requests = requests + excluded.requests, retried = retried + excluded.retried,
    category_requests = category_requests + excluded.category_requests,
    bytes_out = bytes_out + excluded.bytes_out, latency_sum = latency_sum + excluded.latency_sum,
    latency_n = latency_n + excluded.latency_n;
  INSERT INTO attempt_days
  SELECT (OLD.started_at / 86400000) * 86400000, OLD.account_id, coalesce(OLD.provider_id, ''),
    1, '', -1, -1, -1, 0, 0, -OLD.bytes_out, -coalesce(OLD.latency_ms, 0),
    -(OLD.latency_ms IS NOT NULL)
  WHERE OLD.attempt_count = 1 AND OLD.account_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM request_attempts x WHERE x.request_id = OLD.id)
  ON CONFLICT DO UPDATE SET n = n + excluded.n, first = first + excluded.first,
    requests = requests + excluded.requests, bytes_out = bytes_out + excluded.bytes_out,
    latency_sum = latency_sum + excluded.latency_sum, latency_n = latency_n + excluded.latency_n;
  UPDATE attempt_latency_days SET buckets = json_patch(buckets, (
    SELECT json_group_object(CAST(b AS TEXT),
      coalesce(json_extract(attempt_latency_days.buckets, '$."' || b || '"'), 0) - n)
    FROM (
      SELECT CASE WHEN ms < 4096 THEN max(0, ms / 64) ELSE 64 + ms / 1024 END AS b,
        count(*) AS n
      FROM (
        SELECT latency_ms AS ms FROM request_attempts WHERE request_id = OLD.id
        UNION ALL
        SELECT OLD.latency_ms WHERE OLD.attempt_count = 1 AND OLD.account_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM request_attempts x WHERE x.request_id = OLD.id)
      )
      WHERE ms IS NOT NULL
      GROUP BY 1
    )))
  WHERE day = (OLD.started_at / 86400000) * 86400000;
  INSERT INTO decision_days
  SELECT (OLD.started_at / 86400000) * 86400000, -count(*),
    -total(json_extract(d.value, '$[5]'))
  FROM json_each(OLD.routing_json) d
  WHERE OLD.routing_json IS NOT NULL
  GROUP BY 1
  ON CONFLICT DO UPDATE SET decisions = decisions + excluded.decisions,
    eligible = eligible + excluded.eligible;
END;
