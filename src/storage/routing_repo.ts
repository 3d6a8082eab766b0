/**
 * SQL for `routing_decisions`: one row per attempt with the ranked
 * candidates, their score components and every exclusion (spec 03 §4–§6).
 */
import type { Db } from "./db.ts";
import type { IdLookup } from "./requests_repo.ts";
import type { DecisionRecord } from "../accounts/decision.ts";

const INSERT_DECISION = `INSERT INTO routing_decisions (
  request_id, attempt_number, decided_at, model_id, provider_id, client_protocol, strategy,
  selected_account_id, selected_score, eligible_count, candidates_json, exclusions_json
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** A decision tagged with the attempt it led to (1-based). */
export interface AttemptDecision {
  attemptNumber: number;
  record: DecisionRecord;
}

/** Writes a request's routing decisions; call inside the transaction that writes the request. */
export function insertRoutingDecisions(
  db: Db,
  ids: IdLookup,
  requestRowId: number,
  decisions: readonly AttemptDecision[],
): void {
  const stmt = db.stmt(INSERT_DECISION);
  for (const { attemptNumber, record: r } of decisions) {
    const selected = r.selectedAccount === null ? null : ids.accountId(r.selectedAccount);
    const withIds = <T extends { account_name: string }>(rows: readonly T[]) =>
      rows.map((row) => ({ account_id: ids.accountId(row.account_name), ...row }));
    stmt.run(
      requestRowId,
      attemptNumber,
      r.decidedAt,
      r.modelId,
      r.providerId,
      r.clientProtocol,
      r.strategy,
      selected,
      r.selectedScore,
      r.eligibleCount,
      JSON.stringify(withIds(r.candidates)),
      JSON.stringify(withIds(r.exclusions)),
    );
  }
}

/** The decisions recorded for a request row, in attempt order (for `/api/stats/recent/{id}`). */
export function listRoutingDecisions(db: Db, requestRowId: number): Record<string, unknown>[] {
  return db.stmt(
    `SELECT d.attempt_number, d.decided_at, d.model_id, d.provider_id, d.client_protocol,
       d.strategy, a.name AS selected_account, d.selected_score, d.eligible_count,
       d.candidates_json, d.exclusions_json
     FROM routing_decisions d LEFT JOIN accounts a ON a.id = d.selected_account_id
     WHERE d.request_id = ? ORDER BY d.attempt_number, d.id`,
  ).all(requestRowId).map(({ candidates_json, exclusions_json, ...rest }) => ({
    ...rest,
    candidates: JSON.parse(String(candidates_json)),
    exclusions: JSON.parse(String(exclusions_json)),
  }));
}
