-- The TTFT histogram cache of 0005 (`ttft_days`) packed: one row per UTC day
-- and (provider, model) instead of one per bucket, its non-empty buckets in
-- one BLOB (issue #14: the Latency page summed about 30 000 rows per 30 days
-- on the 1M-row seed; packed it reads about 1 000). Each bucket is 16 bytes,
-- big-endian, in ascending order: lower bound (u32), count (u32), sum of ms
-- (i64); src/storage/ttft_pack.ts reads and writes the same bytes.
--
-- The days already cached (in ttft_days_done) are converted here, the rest
-- stay for the next read to sum from `requests` as before. The table keeps
-- its name and its `day` column, so 0005's retention trigger, which deletes a
-- day's rows by `day`, stays valid; it is dropped and created again (not
-- renamed) because a rename re-checks that trigger against the schema while
-- the old table is gone. A rowid table: a pack of ~80 buckets (1.3 KB) would
-- spill to overflow pages in a WITHOUT ROWID b-tree.
CREATE TEMP TABLE ttft_packs_0008 AS
SELECT day, provider_id, model_id,
  unhex(group_concat(printf('%08x%08x%016x', lo, CAST(n AS INTEGER), CAST(ms AS INTEGER)), ''
    ORDER BY lo)) AS pack
FROM ttft_days WHERE n <> 0 AND day IN (SELECT day FROM ttft_days_done)
GROUP BY day, provider_id, model_id;

DROP TABLE ttft_days;

CREATE TABLE ttft_days (
  day INTEGER NOT NULL,
  provider_id TEXT NOT NULL,
  model_id TEXT NOT NULL,
  pack BLOB NOT NULL,
  PRIMARY KEY (day, provider_id, model_id)
) STRICT;

INSERT INTO ttft_days SELECT day, provider_id, model_id, pack FROM ttft_packs_0008 ORDER BY 1, 2, 3;

DROP TABLE ttft_packs_0008;
