/**
 * Routing over a period, read from the decisions stored on each request row
 * (`requests.routing_json`, one array per attempt, migration 0002): where
 * requests went per model and provider, which accounts were selected, which
 * were excluded and why, and how even the selections were.
 */
import type { Db } from "../../storage/db.ts";
import type { StatsPeriod } from "./period.ts";
import { avg, IN_PERIOD, num, range, ratio, strOrNull } from "./_sql.ts";

const DISTRIBUTION = `SELECT r.model_id AS model, r.provider_id AS provider, count(*) AS n,
  total(r.status = 'completed') AS ok, total(r.attempt_count > 1) AS failed_over
  FROM requests r WHERE ${IN_PERIOD} AND r.provider_id IS NOT NULL AND r.model_id IS NOT NULL
  GROUP BY r.model_id, r.provider_id ORDER BY r.model_id, n DESC, r.provider_id`;

/** `/api/stats/routing`: requests per (model, provider) and each provider's share of the model. */
export function routingDistribution(db: Db, p: StatsPeriod) {
  const rows = db.stmt(DISTRIBUTION).all(...range(p));
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

const SELECTIONS = `SELECT json_extract(d.value, '$[3]') AS aid, count(*) AS n,
  total(json_extract(d.value, '$[0]') = 1) AS first_choice,
  total(json_extract(d.value, '$[5]')) AS eligible_sum
  FROM requests r, json_each(r.routing_json) d
  WHERE ${IN_PERIOD} AND r.routing_json IS NOT NULL
  GROUP BY aid`;

function accountNames(db: Db): Map<number, { name: string; provider: string; enabled: boolean }> {
  return new Map(
    db.stmt("SELECT id, name, provider_id, enabled FROM accounts").all().map((r) => [
      num(r.id),
      { name: String(r.name), provider: String(r.provider_id), enabled: num(r.enabled) === 1 },
    ]),
  );
}

/**
 * `/api/stats/routing-selections`: per account, how often a decision selected
 * it (first choice or after a failover); `account_name` null for decisions
 * that found no eligible account.
 */
export function routingSelections(db: Db, p: StatsPeriod) {
  const names = accountNames(db);
  const rows = db.stmt(SELECTIONS).all(...range(p));
  const total = rows.reduce((s, r) => s + num(r.n), 0);
  return rows.map((r) => {
    const a = r.aid === null ? undefined : names.get(num(r.aid));
    return {
      account_name: a?.name ?? null,
      provider_id: a?.provider ?? null,
      selections: num(r.n),
      first_choice: num(r.first_choice),
      after_failover: num(r.n) - num(r.first_choice),
      share: ratio(num(r.n), total),
      avg_eligible: avg(num(r.eligible_sum), num(r.n)),
    };
  }).sort((a, b) =>
    b.selections - a.selections || String(a.account_name).localeCompare(String(b.account_name))
  );
}

const EXCLUSIONS =
  `SELECT json_extract(e.value, '$[0]') AS aid, json_extract(e.value, '$[1]') AS reason,
  count(*) AS n, count(DISTINCT r.id) AS requests
  FROM requests r, json_each(r.routing_json) d, json_each(d.value, '$[7]') e
  WHERE ${IN_PERIOD} AND r.routing_json IS NOT NULL
  GROUP BY aid, reason ORDER BY n DESC`;

/** `/api/stats/routing-exclusions`: per (account, reason), how many decisions left it out. */
export function routingExclusions(db: Db, p: StatsPeriod) {
  const names = accountNames(db);
  return db.stmt(EXCLUSIONS).all(...range(p)).map((r) => {
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
export function routingSkew(db: Db, p: StatsPeriod) {
  const names = accountNames(db);
  const counts = new Map<string, number>();
  for (const a of names.values()) if (a.enabled) counts.set(a.name, 0);
  for (const r of db.stmt(SELECTIONS).all(...range(p))) {
    const a = r.aid === null ? undefined : names.get(num(r.aid));
    if (a !== undefined && counts.has(a.name)) counts.set(a.name, counts.get(a.name)! + num(r.n));
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
