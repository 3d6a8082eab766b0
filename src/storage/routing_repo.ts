/**
 * Routing decisions as stored on their request row (`requests.routing_json`,
 * migration 0002): one array per attempt with the ranked candidates, their
 * score components and every exclusion (spec 03 §4–§6). Arrays, not objects,
 * and on the request row, not a table of their own: written on every request,
 * that costs one JSON string instead of a second row.
 *
 * Attempt: `[attempt_number, decided_at, requested_provider_id, selected_account_id,
 * selected_score, eligible_count, candidates, exclusions]`; candidate:
 * `[account_id, ...CANDIDATE_FIELDS]`; exclusion: `[account_id, reason, until_ms | null]`.
 * {@linkcode listRoutingDecisions} turns them back into named fields.
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

/** A request's decisions as the `routing_json` text. */
export function encodeDecisions(ids: IdLookup, decisions: readonly AttemptDecision[]): string {
  const out: unknown[] = [];
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
    out.push([
      attemptNumber,
      d.decidedAt,
      d.requestedProviderId ?? null,
      chosen === undefined ? null : ids.accountId(chosen.name),
      chosen === undefined ? null : storedScore(chosen.score),
      d.candidates.length,
      candidates,
      exclusions,
    ]);
  }
  return JSON.stringify(out);
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
  const row = db.stmt(
    "SELECT model_id, client_protocol, routing_json FROM requests WHERE id = ?",
  ).get(requestRowId);
  if (row === undefined || row.routing_json === null) return [];
  const names = accountNames(db);
  const attempts = JSON.parse(String(row.routing_json)) as unknown[][];
  return attempts.map((
    [attempt, decidedAt, providerId, selectedId, score, eligible, candidates, exclusions],
  ) => ({
    attempt_number: attempt,
    decided_at: decidedAt,
    model_id: row.model_id,
    provider_id: providerId,
    client_protocol: row.client_protocol,
    strategy: "quota_fair",
    selected_account: selectedId === null ? null : names.name(selectedId),
    selected_score: score,
    eligible_count: eligible,
    candidates: (candidates as unknown[][]).map((c) => candidateObject(c, names)),
    exclusions: (exclusions as unknown[][]).map((e) => exclusionObject(e, names)),
  }));
}
