/**
 * `/api/stats/transcoding` (spec 01 §7, 04 §7; issue #15): per direction,
 * the client's endpoint (surface) and the protocol its upstream spoke, how
 * many requests went that way, how they ended and what the translation
 * dropped. Only requests that reached an upstream count (the ones refused
 * before routing went no direction). Whole days come from the day rollups of
 * migration 0007, the partial days at the period's ends from the rows, as in
 * _days.ts; `withoutDayRollups` switches the rollups off the same way.
 */
import type { Db } from "../../storage/db.ts";
import type { Protocol, Surface } from "../../core/protocol.ts";
import { NATIVE_SURFACE, SURFACE_PROTOCOL } from "../../core/protocol.ts";
import type { StatsPeriod } from "./period.ts";
import { daySourceParams } from "./_days.ts";
import { num } from "./_sql.ts";

/** Dropped field names listed per direction. */
export const TOP_DROPPED_FIELDS = 5;

/** A row's surface: its side row's, else its protocol's own endpoint (every row before 0007). */
export const SURFACE_OF_ROW = `coalesce(t.client_surface,
  CASE r.client_protocol WHEN 'anthropic' THEN 'messages' ELSE 'chat_completions' END)`;

const RAW_DIRECTIONS = `SELECT ${SURFACE_OF_ROW} AS surface, r.upstream_protocol AS upstream,
  1 AS n, r.status = 'completed' AS successful,
  r.status = 'error' OR r.status = 'interrupted' AS errors,
  r.status = 'client_error' AS client_errors, r.status = 'cancelled' AS cancelled,
  coalesce(t.dropped_fields, 0) > 0 AS with_drops, coalesce(t.dropped_fields, 0) AS dropped
  FROM requests r LEFT JOIN request_transcodes t ON t.request_id = r.id
  WHERE r.started_at >= ? AND r.started_at < ? AND r.upstream_protocol IS NOT NULL`;

const DIRECTIONS = `SELECT s.surface, s.upstream, total(s.n) AS n,
  total(s.successful) AS successful, total(s.errors) AS errors,
  total(s.client_errors) AS client_errors, total(s.cancelled) AS cancelled,
  total(s.with_drops) AS with_drops, total(s.dropped) AS dropped
  FROM (
    SELECT client_surface AS surface, upstream_protocol AS upstream, n, successful, errors,
      client_errors, cancelled, with_drops, dropped
    FROM transcode_days WHERE day >= ? AND day < ? AND n <> 0
    UNION ALL ${RAW_DIRECTIONS} UNION ALL ${RAW_DIRECTIONS}
  ) s GROUP BY s.surface, s.upstream HAVING total(s.n) > 0`;

const RAW_FIELDS = `SELECT t.client_surface AS surface, r.upstream_protocol AS upstream,
  f.value AS field, 1 AS n
  FROM requests r JOIN request_transcodes t ON t.request_id = r.id, json_each(t.dropped_names) f
  WHERE r.started_at >= ? AND r.started_at < ? AND r.upstream_protocol IS NOT NULL
    AND t.dropped_names IS NOT NULL`;

const FIELDS = `SELECT s.surface, s.upstream, s.field, total(s.n) AS n
  FROM (
    SELECT client_surface AS surface, upstream_protocol AS upstream, field, requests AS n
    FROM transcode_field_days WHERE day >= ? AND day < ? AND requests <> 0
    UNION ALL ${RAW_FIELDS} UNION ALL ${RAW_FIELDS}
  ) s GROUP BY s.surface, s.upstream, s.field HAVING total(s.n) > 0
  ORDER BY s.surface, s.upstream, n DESC, s.field`;

/** Whether a request that came in on `surface` and went to an `upstream` of that protocol was translated. */
export function isTranscoded(surface: string, upstream: string): boolean {
  return NATIVE_SURFACE[upstream as Protocol] !== surface;
}

/** One direction of `/api/stats/transcoding`. */
export interface TranscodingDirection {
  client_protocol: Protocol | null;
  client_surface: string;
  upstream_protocol: string;
  /** False for the native directions (chat_completions → openai, messages → anthropic). */
  transcoded: boolean;
  requests: number;
  successful: number;
  errors: number;
  client_errors: number;
  cancelled: number;
  /** Requests that dropped at least one field, and the fields dropped in all. */
  requests_with_drops: number;
  dropped_fields: number;
  /** The most often dropped field names (indexes folded), by requests that dropped them. */
  top_dropped_fields: { field: string; requests: number }[];
}

/** Per direction over the period, transcoded directions first, then by requests. */
export function transcodingStats(db: Db, p: StatsPeriod) {
  const params = daySourceParams(p);
  const top = new Map<string, { field: string; requests: number }[]>();
  for (const f of db.stmt(FIELDS).all(...params)) {
    const key = `${f.surface}\u0000${f.upstream}`;
    const list = top.get(key) ?? [];
    if (list.length < TOP_DROPPED_FIELDS) list.push({ field: String(f.field), requests: num(f.n) });
    top.set(key, list);
  }
  const directions: TranscodingDirection[] = db.stmt(DIRECTIONS).all(...params).map((r) => {
    const surface = String(r.surface);
    const upstream = String(r.upstream);
    return {
      client_protocol: SURFACE_PROTOCOL[surface as Surface] ?? null,
      client_surface: surface,
      upstream_protocol: upstream,
      transcoded: isTranscoded(surface, upstream),
      requests: num(r.n),
      successful: num(r.successful),
      errors: num(r.errors),
      client_errors: num(r.client_errors),
      cancelled: num(r.cancelled),
      requests_with_drops: num(r.with_drops),
      dropped_fields: num(r.dropped),
      top_dropped_fields: top.get(`${surface}\u0000${upstream}`) ?? [],
    };
  });
  directions.sort((a, b) =>
    Number(b.transcoded) - Number(a.transcoded) || b.requests - a.requests ||
    a.client_surface.localeCompare(b.client_surface) ||
    a.upstream_protocol.localeCompare(b.upstream_protocol)
  );
  let native = 0;
  let transcoded = 0;
  let dropped = 0;
  let withDrops = 0;
  for (const d of directions) {
    if (d.transcoded) transcoded += d.requests;
    else native += d.requests;
    dropped += d.dropped_fields;
    withDrops += d.requests_with_drops;
  }
  return {
    totals: {
      requests: native + transcoded,
      native,
      transcoded,
      requests_with_drops: withDrops,
      dropped_fields: dropped,
    },
    directions,
  };
}

/** Everything `/api/stats/transcoding` answers besides the period. */
export type TranscodingStats = ReturnType<typeof transcodingStats>;
