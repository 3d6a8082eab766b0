/**
 * Account events of one period, for the dashboard's Events page (spec 06 §4:
 * the type filter offers only the types present in the period). Details are
 * made safe by {@linkcode safeDetails}, as on `/api/events`.
 */
import type { Db } from "../../storage/db.ts";
import type { StatsPeriod } from "./period.ts";
import { safeDetails } from "./events.ts";
import { num, strOrNull } from "./_sql.ts";

/** One account event; `occurred_at` in epoch ms. */
export interface AccountEventRow {
  id: number;
  account_name: string | null;
  event_type: string;
  details: Record<string, unknown>;
  occurred_at: number;
}

/** The period's account events, newest first, optionally of one type. */
export function accountEventsIn(
  db: Db,
  p: StatsPeriod,
  limit: number,
  type?: string,
): AccountEventRow[] {
  const sql = `SELECT e.id, a.name, e.event_type, e.details_json, e.occurred_at
    FROM account_events e LEFT JOIN accounts a ON a.id = e.account_id
    WHERE e.occurred_at >= ? AND e.occurred_at < ?${
    type === undefined ? "" : " AND e.event_type = ?"
  } ORDER BY e.occurred_at DESC, e.id DESC LIMIT ?`;
  const params: (number | string)[] = type === undefined
    ? [p.start, p.end, limit]
    : [p.start, p.end, type, limit];
  return db.stmt(sql).all(...params).map((r) => ({
    id: num(r.id),
    account_name: strOrNull(r.name),
    event_type: String(r.event_type),
    details: safeDetails(r.details_json),
    occurred_at: num(r.occurred_at),
  }));
}

/** Each account event type present in the period with its count, most frequent first. */
export function accountEventTypes(db: Db, p: StatsPeriod): { type: string; count: number }[] {
  return db.stmt(`SELECT event_type, count(*) AS n FROM account_events
    WHERE occurred_at >= ? AND occurred_at < ? GROUP BY event_type
    ORDER BY n DESC, event_type`).all(p.start, p.end).map((r) => ({
    type: String(r.event_type),
    count: num(r.n),
  }));
}
