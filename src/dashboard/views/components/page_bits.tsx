/** Small pieces the Reliability … Pings pages share: stat cards, empty states, a tag. */
import type { ComponentChildren } from "preact";
import { CardGrid } from "./overview_cards.tsx";

/** One headline figure. */
export interface StatCard {
  id: string;
  label: string;
  value: string;
  detail: string;
  tooltip: string;
  warn?: boolean;
}

/** A row of stat cards. */
export function StatCards({ cards, label }: { cards: readonly StatCard[]; label: string }) {
  return <CardGrid cards={cards} label={label} />;
}

/** What to do when a section has nothing to show yet. */
export function EmptyNote({ children }: { children: ComponentChildren }) {
  return <p class="muted empty-note">{children}</p>;
}

/**
 * A card of label/value facts (a request, a model, the database, the
 * config); each value carries its label as `data-fact` for tests and scripts.
 */
export function FactList(
  { id, facts, warn = false }: {
    id: string;
    facts: readonly (readonly [string, string])[];
    warn?: boolean;
  },
) {
  return (
    <dl class={warn ? "card trace-facts warning" : "card trace-facts"} id={id}>
      {facts.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd data-fact={k}>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** The usual "no traffic yet" advice. */
export const NO_TRAFFIC =
  "Point a client at /v1/chat/completions or /v1/messages with the local API key, or pick a " +
  "longer period.";

/** A coloured tag with a tooltip that is also its accessible name. */
export function Tag(
  { text, tone, tip }: { text: string; tone?: "success" | "warning" | "error"; tip: string },
) {
  return (
    <span
      class={tone === undefined ? "tag" : `tag ${tone}`}
      tabindex={0}
      data-tooltip={tip}
      aria-label={tip}
    >
      {text}
    </span>
  );
}

/** `a / b` or undefined when b is 0. */
export function share(part: number, whole: number): number | undefined {
  return whole === 0 ? undefined : part / whole;
}

/** An ISO time from the API as `2026-06-15 11:30:00 UTC`, or an em dash. */
export function isoTime(iso: string | null): string {
  return iso === null ? "—" : `${iso.slice(0, 19).replace("T", " ")} UTC`;
}

/** `key=value` pairs of already-redacted event details. */
export function detailText(details: Readonly<Record<string, unknown>>): string {
  const text = Object.entries(details)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ");
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}

/** An age in seconds as `45s`, `12m 5s`, `3h 4m` or `2d 23h`. */
export function formatAge(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}
