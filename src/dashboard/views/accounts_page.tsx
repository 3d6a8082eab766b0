/** The Accounts page (spec 06 §4): filter bar, the accounts table and per-model cache figures. */
import type { AccountsPageProps } from "./types.ts";
import { pageHref } from "./_format.ts";
import { Layout } from "./layout.tsx";
import { AccountsTable } from "./components/accounts_table.tsx";
import { ModelCacheTable } from "./components/model_cache_table.tsx";
import { PeriodSelector } from "./components/period_selector.tsx";

/** Filters, then either the table or an empty state that says how to add an account. */
export function AccountsPage(props: AccountsPageProps) {
  const { chrome } = props;
  const toggle = pageHref(chrome.path, {
    period: chrome.period,
    theme: chrome.theme,
    ...(props.showDisabled ? {} : { show_disabled: "1" }),
  });
  const total = props.enabledCount + props.disabledCount;
  return (
    <Layout chrome={chrome}>
      <h1>Accounts</h1>
      <div class="filter-bar">
        <PeriodSelector chrome={chrome} />
        <span class="chip">
          {props.enabledCount} enabled · {props.disabledCount} disabled
        </span>
        {props.disabledCount > 0 && (
          <a class="button" href={toggle}>
            {props.showDisabled ? "Hide disabled" : "Show disabled"}
          </a>
        )}
      </div>
      {total === 0 && props.accounts.length === 0
        ? <EmptyState />
        : <AccountsTable rows={props.accounts} affinityOn={props.affinityOn} />}
      <h2>Prompt cache by model</h2>
      {props.models.length === 0
        ? <p class="muted">No requests in this period.</p>
        : <ModelCacheTable rows={props.models} affinityOn={props.affinityOn} />}
      {!props.affinityOn && (
        <p class="muted">
          Conversation affinity is off (<code>[routing] affinity = "off"</code>): conversations are
          not pinned, so there are no moves to show.
        </p>
      )}
    </Layout>
  );
}

function EmptyState() {
  return (
    <section class="card empty-state">
      <p>
        <strong>No accounts yet.</strong>
      </p>
      <p>
        Add an account to <code>config.toml</code> under{" "}
        <code>[[providers.&lt;id&gt;.accounts]]</code> with a <code>name</code> and an{" "}
        <code>api_key_env</code>, then run <code>eggpool check-config</code>{" "}
        and restart the server (<code>eggpool restart</code>).
      </p>
    </section>
  );
}
