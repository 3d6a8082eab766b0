/**
 * The Events page (spec 06 §4): account events of the period with a type
 * filter offering only the types present, then the process's own events.
 */
import type { AccountEventRow } from "../../../stats/queries/account_events.ts";
import type { PageChrome } from "../types.ts";
import { formatTime, pageHref } from "../_format.ts";
import { Layout } from "../layout.tsx";
import { PeriodSelector } from "../components/period_selector.tsx";
import { detailText, EventTag } from "./event_tag.tsx";

/** Props of {@linkcode EventsPage}. */
export interface EventsPageProps {
  chrome: PageChrome;
  types: readonly { type: string; count: number }[];
  type?: string;
  events: readonly AccountEventRow[];
  operational: readonly {
    id: number;
    event_type: string;
    details: Record<string, unknown>;
    created_at: string | null;
  }[];
}

/** The page. */
export function EventsPage(props: EventsPageProps) {
  const { chrome } = props;
  const base = { period: chrome.period, theme: chrome.theme };
  return (
    <Layout chrome={chrome}>
      <h1>Events</h1>
      <div class="filter-bar">
        <PeriodSelector chrome={chrome} />
        {props.types.length > 0 && (
          <nav class="type-filter" aria-label="Event type">
            <a
              href={pageHref("/events", base)}
              class={props.type === undefined ? "chip active" : "chip"}
            >
              all
            </a>
            {props.types.map((t) => (
              <a
                key={t.type}
                href={pageHref("/events", { ...base, type: t.type })}
                class={t.type === props.type ? "chip active" : "chip"}
              >
                {t.type} ({t.count})
              </a>
            ))}
          </nav>
        )}
      </div>
      <h2>Account events</h2>
      {props.events.length === 0
        ? (
          <section class="card empty-state" id="events-empty">
            <p>
              <strong>No account events in this period.</strong>
            </p>
            <p>
              Rate limits, exhausted quotas, rejected keys and circuit changes are written here as
              they happen. Pick a longer period, or check the accounts on the{" "}
              <a href={pageHref("/accounts", base)}>Accounts</a> page.
            </p>
          </section>
        )
        : (
          <div class="table-wrap">
            <table id="account-events">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Account</th>
                  <th scope="col">Type</th>
                  <th scope="col" class="p2">Details</th>
                </tr>
              </thead>
              <tbody>
                {props.events.map((e) => (
                  <tr key={e.id} data-event={e.event_type}>
                    <td data-col="When">{formatTime(e.occurred_at)}</td>
                    <td data-col="Account">{e.account_name ?? "—"}</td>
                    <td data-col="Type">
                      <EventTag type={e.event_type} />
                    </td>
                    <td class="p2" data-col="Details">{detailText(e.details)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      <h2>Operational events</h2>
      {props.operational.length === 0
        ? (
          <p class="muted">
            No process events (restarts, crash recovery, finalizer runs) in this period.
          </p>
        )
        : (
          <div class="table-wrap">
            <table id="operational-events">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Type</th>
                  <th scope="col" class="p2">Details</th>
                </tr>
              </thead>
              <tbody>
                {props.operational.map((e) => (
                  <tr key={e.id} data-event={e.event_type}>
                    <td data-col="When">
                      {e.created_at?.replace("T", " ").slice(0, 19) ?? "—"} UTC
                    </td>
                    <td data-col="Type">
                      <EventTag type={e.event_type} />
                    </td>
                    <td class="p2" data-col="Details">{detailText(e.details)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
    </Layout>
  );
}
