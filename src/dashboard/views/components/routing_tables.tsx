/** The Routing page's tables: distribution per model, selections and exclusions per account. */
import type { RoutingData } from "../../pages_a_data.ts";
import { formatCount, formatShare } from "../_format.ts";
import { DataTable } from "./data_table.tsx";
import { EmptyNote, NO_TRAFFIC } from "./page_bits.tsx";

/**
 * Exclusions that keep an account out on evidence or the operator's word
 * (spec 06 §4's suppressive list, in the reasons EggPool records); the rest
 * (`attempted`: already tried for this request) only steer one request.
 */
const SUPPRESSIVE = new Set([
  "auth_failed",
  "authentication_failed",
  "quota_exhausted",
  "rate_limited",
  "model_unavailable",
  "disabled",
  "operator_disabled",
  "account_disabled",
  "no_key",
  "not_serving",
  "protocol_mismatch",
  "circuit_open",
  "cooling_down",
  "hard_cap",
]);

/** Whether an exclusion reason is suppressive. */
export function isSuppressive(reason: string | null): boolean {
  return reason !== null && SUPPRESSIVE.has(reason);
}

/** Where requests went, who was selected, who was left out and why. */
export function RoutingTables(props: RoutingData) {
  return (
    <>
      <h2>Routing distribution</h2>
      {props.distribution.length === 0
        ? <EmptyNote>No routed requests in this period. {NO_TRAFFIC}</EmptyNote>
        : (
          <DataTable
            label="Requests per model and provider"
            rows={props.distribution}
            rowKey={(r) => `${r.model_id}/${r.provider_id}`}
            columns={[
              { label: "Model", cell: (r) => r.model_id },
              { label: "Provider", cell: (r) => r.provider_id },
              { label: "Requests", num: true, cell: (r) => formatCount(r.requests) },
              {
                label: "Share of model",
                num: true,
                cell: (r) => formatShare(r.share_of_model ?? undefined),
              },
              {
                label: "Successful",
                num: true,
                priority: 2,
                cell: (r) => formatCount(r.successful),
              },
              {
                label: "Failed over",
                num: true,
                priority: 2,
                cell: (r) => formatCount(r.failed_over),
              },
            ]}
          />
        )}
      <h2>Account selection breakdown</h2>
      {props.selections.length === 0
        ? <EmptyNote>No account was selected in this period. {NO_TRAFFIC}</EmptyNote>
        : (
          <DataTable
            label="Selections per account"
            rows={props.selections}
            rowKey={(r) => r.account_name ?? "?"}
            columns={[
              { label: "Account", cell: (r) => r.account_name ?? "(removed)" },
              { label: "Provider", priority: 2, cell: (r) => r.provider_id ?? "—" },
              { label: "Selections", num: true, cell: (r) => formatCount(r.selections) },
              { label: "Share", num: true, cell: (r) => formatShare(r.share ?? undefined) },
              {
                label: "First choice",
                num: true,
                priority: 2,
                cell: (r) => formatCount(r.first_choice),
              },
              {
                label: "After failover",
                num: true,
                priority: 2,
                cell: (r) => formatCount(r.after_failover),
              },
            ]}
          />
        )}
      <h2>Account exclusions</h2>
      {props.exclusions.length === 0
        ? <EmptyNote>No exclusions in this period.</EmptyNote>
        : (
          <DataTable
            label="Exclusions per account and reason"
            rows={props.exclusions}
            rowKey={(r) => `${r.account_name}/${r.reason}`}
            columns={[
              { label: "Account", cell: (r) => r.account_name ?? "(removed)" },
              { label: "Reason", cell: (r) => r.reason ?? "—" },
              {
                label: "Kind",
                priority: 2,
                cell: (r) => (isSuppressive(r.reason) ? "suppressive" : "advisory"),
              },
              { label: "Exclusions", num: true, cell: (r) => formatCount(r.exclusions) },
              { label: "Requests", num: true, priority: 2, cell: (r) => formatCount(r.requests) },
              { label: "Provider", priority: 3, cell: (r) => r.provider_id ?? "—" },
            ]}
          />
        )}
    </>
  );
}
