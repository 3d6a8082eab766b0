/**
 * Data of the `/models/{id}` page: the model's catalog rows, its usage over
 * the period (the stats API's per-model query, so the page and
 * `/api/stats/models` agree) and, per provider, whether an account could
 * call it now according to the pool's live status.
 */
import type { Db } from "../storage/db.ts";
import type { AccountStatus } from "../accounts/status.ts";
import type { StatsPeriod } from "../stats/queries/period.ts";
import { modelStats } from "../stats/queries/usage.ts";
import { catalogRowsOf } from "./model_info.ts";
import type { CatalogRow } from "./model_info.ts";

/** One provider that lists the model or served it in the period. */
export interface ModelProvider {
  providerId: string;
  protocol?: string;
  protocolSource?: string;
  /** Where the catalog row came from; undefined when only the history names the pair. */
  source?: string;
  accounts: number;
  /** Enabled, with a key, no account-wide backoff or open circuit in force. */
  readyAccounts: number;
  callable: boolean;
  /** Why (not) callable, for the tag's tooltip. */
  why: string;
}

/** What the page shows. */
export interface ModelDetail {
  catalog: CatalogRow[];
  usage?: ReturnType<typeof modelStats>[number];
  providers: ModelProvider[];
}

function ready(s: AccountStatus, modelId: string, now: number): boolean {
  if (!s.enabled || !s.hasKey || s.circuit.state === "open") return false;
  return !s.backoffs.some((b) =>
    (b.modelId === undefined || b.modelId === modelId) &&
    (b.untilMs === undefined || b.untilMs > now)
  );
}

/** The model's detail, or undefined when nothing lists it and nothing used it in `p`. */
export function loadModelDetail(
  db: Db,
  statuses: readonly AccountStatus[],
  modelId: string,
  p: StatsPeriod,
  now: number,
): ModelDetail | undefined {
  const catalog = catalogRowsOf(db, modelId);
  const usage = modelStats(db, p).find((m) => m.model_id === modelId);
  if (catalog.length === 0 && usage === undefined) return undefined;
  const ids = [...new Set([...catalog.map((c) => c.providerId), ...(usage?.providers ?? [])])]
    .sort();
  const providers = ids.map((providerId): ModelProvider => {
    const row = catalog.find((c) => c.providerId === providerId);
    const accounts = statuses.filter((s) => s.providerId === providerId);
    const readyAccounts = accounts.filter((s) => ready(s, modelId, now)).length;
    const listed = row?.protocol !== undefined;
    const why = !listed
      ? row === undefined
        ? "The provider's model list does not name this model now"
        : "The protocol of this model is unresolved for this provider, so it is hidden"
      : readyAccounts === 0
      ? accounts.length === 0
        ? "No configured account on this provider"
        : "Every account is disabled, keyless, backed off or circuit-broken for this model"
      : `${readyAccounts} account${readyAccounts === 1 ? "" : "s"} can take a request now`;
    return {
      providerId,
      protocol: row?.protocol,
      protocolSource: row?.protocolSource,
      source: row?.source,
      accounts: accounts.length,
      readyAccounts,
      callable: listed && readyAccounts > 0,
      why,
    };
  });
  return { catalog, usage, providers };
}
