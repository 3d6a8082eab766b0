/**
 * SQL for `routing_decisions`: one row per attempt with the ranked
 * candidates, their score components and every exclusion (spec 03 §4–§6).
 *
 * Candidates and exclusions are stored as arrays, not objects: a candidate is
 * `[account_id, ...CANDIDATE_FIELDS]`, an exclusion `[account_id, reason,
 * until_ms | null]`. Written on every request, that keeps the row small and
 * cheap; {@linkcode listRoutingDecisions} turns them back into named fields.
 */
import type { Db } from "./db.ts";
import type { IdLookup } from "./requests_repo.ts";
import type { AttemptDecision } from "../stats/types.ts";
import {
  CANDIDATE_FIELDS,
  candidateValues,
  selectedCandidate,
  storedScore,
} from "../accounts/decision.ts";

const INSERT_DECISION = `INSERT INTO routing_decisions (
  request_id, attempt_number, decided_at, model_id, provider_id, client_protocol, strategy,
  selected_account_id, selected_score, eligible_count, candidates_json, exclusions_json
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** Writes a request's routing decisions; call inside the transaction that writes the request. */
export function insertRoutingDecisions(
  db: Db,
  ids: IdLookup,
  requestRowId: number,
  decisions: readonly AttemptDecision[],
): void {
  const stmt = db.stmt(INSERT_DECISION);
  for (const { attemptNumber, decision: d, selected } of decisions) {
    const chosen = selectedCandidate(d, selected);
    const candidates = d.candidates.map((c) => {
      const row: (number | null)[] = candidateValues(c);
      row.unshift(ids.accountId(c.name));
      return row;
    });
    const exclusions = d.exclusions.map((e) => [
      ids.accountId(e.account),
      e.reason,
      e.untilMs ?? null,
    ]);
    stmt.run(
      requestRowId,
      attemptNumber,
      d.decidedAt,
      d.modelId,
      d.requestedProviderId ?? null,
      d.clientProtocol ?? d.protocol ?? "openai",
      d.strategy,
      chosen === undefined ? null : ids.accountId(chosen.name),
      chosen === undefined ? null : storedScore(chosen.score),
      d.candidates.length,
      JSON.stringify(candidates),
      JSON.stringify(exclusions),
    );
  }
}

interface AccountNames {
  name(id: unknown): string | null;
  provider(id: unknown): string | null;
}

function accountNames(db: Db): AccountNames {
  const rows = db.stmt("SELECT id, name, provider_id FROM accounts").all();
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  return {
    name: (id) => (byId.get(Number(id))?.name as string | undefined) ?? null,
    provider: (id) => (byId.get(Number(id))?.provider_id as string | undefined) ?? null,
  };
}

const COMPONENT_FIELDS = new Set(["p5h", "p7d", "p30d", "peak", "mean", "inflight", "health"]);

function candidateObject(row: unknown[], names: AccountNames): Record<string, unknown> {
  const [accountId, ...values] = row;
  const out: Record<string, unknown> = {
    account_id: accountId,
    account_name: names.name(accountId),
    provider_id: names.provider(accountId),
  };
  const components: Record<string, unknown> = {};
  CANDIDATE_FIELDS.forEach((field, i) => {
    const v = values[i];
    if (COMPONENT_FIELDS.has(field)) components[field] = v;
    else out[field] = field === "in_band" ? v === 1 : v;
  });
  out.components = components;
  return out;
}

function exclusionObject(row: unknown[], names: AccountNames): Record<string, unknown> {
  const [accountId, reason, until] = row;
  return {
    account_id: accountId,
    account_name: names.name(accountId),
    reason,
    ...(until === null || until === undefined ? {} : { until }),
  };
}

/** The decisions recorded for a request row, in attempt order, with named fields. */
export function listRoutingDecisions(db: Db, requestRowId: number): Record<string, unknown>[] {
  const names = accountNames(db);
  return db.stmt(
    `SELECT d.attempt_number, d.decided_at, d.model_id, d.provider_id, d.client_protocol,
       d.strategy, a.name AS selected_account, d.selected_score, d.eligible_count,
       d.candidates_json, d.exclusions_json
     FROM routing_decisions d LEFT JOIN accounts a ON a.id = d.selected_account_id
     WHERE d.request_id = ? ORDER BY d.attempt_number, d.id`,
  ).all(requestRowId).map(({ candidates_json, exclusions_json, ...rest }) => ({
    ...rest,
    candidates: (JSON.parse(String(candidates_json)) as unknown[][]).map((c) =>
      candidateObject(c, names)
    ),
    exclusions: (JSON.parse(String(exclusions_json)) as unknown[][]).map((e) =>
      exclusionObject(e, names)
    ),
  }));
}
