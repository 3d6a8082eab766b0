/** The period selector (spec 06 §1): links that keep the theme and the page's filters. */
import type { PageChrome, Period } from "../types.ts";
import { pageHref } from "../_format.ts";

/** The choices, in display order, with their spoken labels. */
export const PERIODS: readonly { value: Period; label: string }[] = [
  { value: "1h", label: "Last hour" },
  { value: "24h", label: "Last 24 hours" },
  { value: "7d", label: "Last 7 days" },
  { value: "30d", label: "Last 30 days" },
];

/** A segmented control of period links. */
export function PeriodSelector({ chrome }: { chrome: PageChrome }) {
  return (
    <nav class="period-selector" aria-label="Period">
      {PERIODS.map((p) => (
        <a
          key={p.value}
          href={pageHref(chrome.path, { ...chrome.keep, period: p.value, theme: chrome.theme })}
          class={p.value === chrome.period ? "active" : undefined}
          aria-current={p.value === chrome.period ? "true" : undefined}
          aria-label={p.label}
          data-tooltip={p.label}
          data-tooltip-pos="bottom"
        >
          {p.value}
        </a>
      ))}
    </nav>
  );
}
