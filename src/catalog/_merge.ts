/**
 * Merging a fresh model list into an account's last good one under
 * `catalog_withdrawal_policy` (spec 02 §4, spec 03 §1.2).
 */
import type { ListedModel } from "./build.ts";

/** When an omitted model is withdrawn from an account's support set. */
export type WithdrawalPolicy = "preserve_until_health" | "confirmed_once" | "confirmed_twice";

/**
 * The account's new list: everything listed now (fresh metadata wins), plus
 * previously listed models the policy keeps. `missed` counts consecutive
 * omissions per model and is updated in place.
 */
export function mergeListing(
  prior: readonly ListedModel[] | undefined,
  fresh: readonly ListedModel[],
  options: { missed: Map<string, number>; policy: WithdrawalPolicy },
): ListedModel[] {
  const { missed, policy } = options;
  const out = new Map<string, ListedModel>();
  for (const m of fresh) {
    out.set(m.id, m);
    missed.delete(m.id);
  }
  for (const m of prior ?? []) {
    if (out.has(m.id)) continue;
    const n = (missed.get(m.id) ?? 0) + 1;
    const keep = policy === "preserve_until_health" || (policy === "confirmed_twice" && n < 2);
    if (keep) {
      missed.set(m.id, n);
      out.set(m.id, m);
    } else missed.delete(m.id);
  }
  return [...out.values()];
}
