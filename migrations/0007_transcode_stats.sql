-- Protocol reach in the stats (issue #15): which endpoint a request came in
-- on, which protocol its upstream spoke, and what the transcoder dropped.
--
-- `requests` already holds client_protocol and upstream_protocol (the last
-- attempt's; each attempt row has its own). What it cannot say goes into a
-- side table instead of new columns: an ADD COLUMN on the STRICT `requests`
-- table re-checks every row (3.5 s per column on a million rows here), and a
-- native request, nearly all of them, then costs nothing more to write.
--
-- request_transcodes: one row per request whose endpoint is not its
-- protocol's own (`/v1/responses`, translated to Chat Completions on the way
-- in) or whose translation dropped request fields. A request without a row
-- came in on its protocol's own endpoint (chat_completions for openai,
-- messages for anthropic) and lost nothing. Rows written before 0007 have
-- none: /v1/responses requests were recorded as openai and cannot be told
-- apart now, so they read as chat_completions. No foreign key: the delete
-- trigger below removes the row with its request, after reading it.
CREATE TABLE request_transcodes (
  request_id INTEGER PRIMARY KEY,
  -- chat_completions | messages | responses
  client_surface TEXT NOT NULL,
  -- Fields the last attempt's translation dropped (all of them, however many).
  dropped_fields INTEGER NOT NULL,
  -- The distinct dropped field names as a JSON array, indexes folded
  -- (`messages[].content[]`), at most 8 of at most 64 characters; NULL when none.
  dropped_names TEXT
) STRICT;

-- Day rollups of the same, for `/api/stats/transcoding` over long periods
-- (the whole days of a period come from here, the partial ends from the
-- rows, as with request_days). Only requests that reached an upstream
-- (upstream_protocol set) are counted; such a row is terminal when written
-- and never changes, so the recorder adds each one once (summed per batch,
-- src/storage/transcode_repo.ts) and retention takes it out (trigger below).
-- Native requests are counted too: their direction is chat_completions →
-- openai or messages → anthropic.
CREATE TABLE transcode_days (
  day INTEGER NOT NULL,
  client_surface TEXT NOT NULL,
  upstream_protocol TEXT NOT NULL,
  n REAL NOT NULL,
  successful REAL NOT NULL,
  errors REAL NOT NULL,
  client_errors REAL NOT NULL,
  cancelled REAL NOT NULL,
  -- Requests that dropped at least one field, and the fields dropped in all.
  with_drops REAL NOT NULL,
  dropped REAL NOT NULL,
  PRIMARY KEY (day, client_surface, upstream_protocol)
) STRICT, WITHOUT ROWID;

-- Requests per dropped field name (a name counts once per request).
CREATE TABLE transcode_field_days (
  day INTEGER NOT NULL,
  client_surface TEXT NOT NULL,
  upstream_protocol TEXT NOT NULL,
  field TEXT NOT NULL,
  requests REAL NOT NULL,
  PRIMARY KEY (day, client_surface, upstream_protocol, field)
) STRICT, WITHOUT ROWID;

-- Old rows: their protocol's own endpoint, nothing dropped recorded.
INSERT INTO transcode_days
SELECT (started_at / 86400000) * 86400000,
  CASE client_protocol WHEN 'anthropic' THEN 'messages' ELSE 'chat_completions' END,
  upstream_protocol, count(*), total(status = 'completed'),
  total(status = 'error' OR status = 'interrupted'), total(status = 'client_error'),
  total(status = 'cancelled'), 0, 0
FROM requests WHERE upstream_protocol IS NOT NULL
GROUP BY 1, 2, 3;

CREATE TRIGGER request_transcodes_delete AFTER DELETE ON requests BEGIN
  INSERT INTO transcode_days
  SELECT (OLD.started_at / 86400000) * 86400000,
    coalesce(t.client_surface,
      CASE OLD.client_protocol WHEN 'anthropic' THEN 'messages' ELSE 'chat_completions' END),
    OLD.upstream_protocol, -1, -(OLD.status = 'completed'),
    -(OLD.status = 'error' OR OLD.status = 'interrupted'), -(OLD.status = 'client_error'),
    -(OLD.status = 'cancelled'), -(coalesce(t.dropped_fields, 0) > 0),
    -coalesce(t.dropped_fields, 0)
  FROM (SELECT 1) LEFT JOIN request_transcodes t ON t.request_id = OLD.id
  WHERE OLD.upstream_protocol IS NOT NULL
  ON CONFLICT DO UPDATE SET
    n = n + excluded.n, successful = successful + excluded.successful,
    errors = errors + excluded.errors, client_errors = client_errors + excluded.client_errors,
    cancelled = cancelled + excluded.cancelled, with_drops = with_drops + excluded.with_drops,
    dropped = dropped + excluded.dropped;
  INSERT INTO transcode_field_days
  SELECT (OLD.started_at / 86400000) * 86400000, t.client_surface, OLD.upstream_protocol,
    f.value, -1
  FROM request_transcodes t, json_each(t.dropped_names) f
  WHERE t.request_id = OLD.id AND OLD.upstream_protocol IS NOT NULL AND t.dropped_names IS NOT NULL
  ON CONFLICT DO UPDATE SET requests = requests + excluded.requests;
  DELETE FROM request_transcodes WHERE request_id = OLD.id;
END;
