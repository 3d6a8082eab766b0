/**
 * Routing over a period, read from the decisions stored on each request row
 * (`requests.routing_json`, one array per attempt, migration 0002): where
 * requests went per model and provider, which accounts were selected, which
 * were excluded and why, and how even the selections were. Distribution and
 * exclusions read the day rollups for whole days (_days.ts; exclusions are
 * counted from the decisions when a row is written, migration 0004).
 */
import type { Db } from "../../storage/db.ts";
import type { StatsPeriod } from "./period.ts";
import { IN_PERIOD, num, range, ratio, strOrNull } from "./_sql.ts";
import { DAY_SOURCE, daySourceParams, EXCLUSIONS_BY_DAY } from "./_days.ts";
import { attemptSums, decisionSums, hasWholeDays } from "./attempt_days.ts";
import { attemptRows } from "./latency.ts";

const DISTRIBUTION = `SELECT s.model_id AS model, s.provider_id AS provider, total(s.n) AS n,
  total(s.successful) AS ok, total(s.failed_over) AS failed_over
  FROM (${DAY_SOURCE}) s WHERE s.provider_id IS NOT NULL AND s.model_id IS NOT NULL
  GROUP BY s.model_id, s.provider_id ORDER BY s.model_id, n DESC, s.provider_id`;

/** `/api/stats/routing`: requests per (model, provider) and each provider's share of the model. */
export function routingDistribution(db: Db, p: StatsPeriod) {
  const rows = db.stmt(DISTRIBUTION).all(...daySourceParams(p));
  const perModel = new Map<string, number>();
  for (const r of rows) {
    perModel.set(String(r.model), (perModel.get(String(r.model)) ?? 0) + num(r.n));
  }
  return rows.map((r) => ({
    model_id: String(r.model),
    provider_id: String(r.provider),
    requests: num(r.n),
    successful: num(r.ok),
    failed_over: num(r.failed_over),
    share_of_model: ratio(num(r.n), perModel.get(String(r.model)) ?? 0),
  }));
}

function accountNames(db: Db): Map<number, { name: string; provider: string; enabled: boolean }> {
  return new Map(
    db.stmt("SELECT id, name, provider_id, enabled FROM accounts").all().map((r) => [
      num(r.id),
      { name: String(r.name), provider: String(r.provider_id), enabled: num(r.enabled) === 1 },
    ]),
  );
}

/** Selections (and first choices) per account id. */
export type SelectionCounts = Map<number, { n: number; first: number }>;

/**
 * Selections per account id: each attempt followed one decision that
 * selected its account (whole days from the attempt day rollups,
 * attempt_days.ts). One read can serve both {@linkcode routingSelections}
 * and {@linkcode routingSkew}.
 */
export function selectionCounts(db: Db, p: StatsPeriod): SelectionCounts {
  const counts: SelectionCounts = new Map();
  if (!hasWholeDays(p)) {
    for (const a of attemptRows(db, p, {})) {
      const c = counts.get(a.accountId) ?? { n: 0, first: 0 };
      c.n++;
      if (a.attemptNumber === 1) c.first++;
      counts.set(a.accountId, c);
    }
    return counts;
  }
  for (const [id, c] of attemptSums(db, p).perAccount) if (c.n !== 0) counts.set(id, c);
  return counts;
}

/**
 * `/api/stats/routing-selections`: per account, how often routing selected
 * it, as the first choice or after a failover. Counted from the attempts
 * (one decision each), which needs no parsing of the stored decisions.
 */
export function routingSelections(
  db: Db,
  p: StatsPeriod,
  counts: SelectionCounts = selectionCounts(db, p),
) {
  const names = accountNames(db);
  const total = [...counts.values()].reduce((s, c) => s + c.n, 0);
  return [...counts.entries()].map(([id, c]) => {
    const a = names.get(id);
    return {
      account_name: a?.name ?? null,
      provider_id: a?.provider ?? null,
      selections: c.n,
      first_choice: c.first,
      after_failover: c.n - c.first,
      share: ratio(c.n, total),
    };
  }).sort((a, b) =>
    b.selections - a.selections || String(a.account_name).localeCompare(String(b.account_name))
  );
}

/** `/api/stats/routing-exclusions`: per (account, reason), how many decisions left it out. */
export function routingExclusions(db: Db, p: StatsPeriod) {
  const names = accountNames(db);
  return db.stmt(EXCLUSIONS_BY_DAY).all(...daySourceParams(p)).map((r) => {
    const a = r.aid === null ? undefined : names.get(num(r.aid));
    return {
      account_name: a?.name ?? null,
      provider_id: a?.provider ?? null,
      reason: strOrNull(r.reason),
      exclusions: num(r.n),
      requests: num(r.requests),
    };
  });
}

/**
 * `/api/stats/routing-skew`: how uneven selections were across enabled
 * accounts (an account never selected counts as 0, which makes the ratio
 * null: it is unbounded).
 */
export function routingSkew(
  db: Db,
  p: StatsPeriod,
  selected: SelectionCounts = selectionCounts(db, p),
) {
  const names = accountNames(db);
  const counts = new Map<string, number>();
  for (const a of names.values()) if (a.enabled) counts.set(a.name, 0);
  for (const [id, c] of selected) {
    const a = names.get(id);
    if (a !== undefined && counts.has(a.name)) counts.set(a.name, counts.get(a.name)! + c.n);
  }
  const list = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const total = list.reduce((s, [, n]) => s + n, 0);
  const most = list[0];
  const least = list[list.length - 1];
  return {
    accounts: list.length,
    total_selections: total,
    max_selections: most?.[1] ?? 0,
    min_selections: least?.[1] ?? 0,
    max_min_ratio: least === undefined || least[1] === 0
      ? null
      : Math.round(most[1] / least[1] * 100) / 100,
    most_selected: total === 0 ? null : most[0],
    least_selected: total === 0 ? null : least[0],
    per_account: Object.fromEntries(list),
  };
}

const DECISIONS = `SELECT count(*) AS n, total(json_extract(d.value, '$[5]')) AS eligible
  FROM requests r, json_each(r.routing_json) d
  WHERE ${IN_PERIOD} AND r.routing_json IS NOT NULL`;

/**
 * How many routing decisions the period's requests stored (one per attempt)
 * and how many accounts were eligible per decision on average (null when
 * there was none). Whole days come from `decision_days` (attempt_days.ts).
 */
export function routingDecisionTotals(db: Db, p: StatsPeriod) {
  let n: number;
  let eligible: number;
  if (hasWholeDays(p)) ({ decisions: n, eligible } = decisionSums(db, p));
  else {
    const row = db.stmt(DECISIONS).get(...range(p)) ?? {};
    n = num(row.n);
    eligible = num(row.eligible);
  }
  return {
    decisions: n,
    avg_eligible: n === 0 ? null : Math.round(eligible / n * 100) / 100,
  };
}
