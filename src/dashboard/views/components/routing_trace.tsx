/**
 * The Routing page's trace-mode diagnostics (spec 06 §4): what
 * `[routing.trace]` asks for, what EggPool actually keeps, and whether the
 * period's attempts have their decisions. Plain server-rendered text.
 */
import type { RoutingData } from "../../pages_a_data.ts";
import { formatCount, formatTime, pageHref } from "../_format.ts";
import type { PageChrome } from "../types.ts";

function modeText(t: RoutingData["trace"]): string {
  if (t.mode === "all") return "all: every decision";
  if (t.mode === "sampled") {
    return `sampled: ${Math.round(t.sampleRate * 10_000) / 100} % of requests`;
  }
  return "off";
}

/** One row per figure, so the panel reads the same without scripts or styles. */
export function RoutingTrace(
  { trace: t, chrome }: { trace: RoutingData["trace"]; chrome: PageChrome },
) {
  const perAttempt = t.attempts === 0 ? "—" : (t.decisions / t.attempts).toFixed(2);
  const rows: [string, string, string][] = [
    ["mode", "Trace mode ([routing.trace] mode)", modeText(t)],
    [
      "stored",
      "Decisions kept",
      "every decision, on its request's row, whatever the trace mode: ranked candidates " +
      "with their score components, and each exclusion with its reason",
    ],
    ["decisions", "Decisions stored in this period", formatCount(t.decisions)],
    ["attempts", "Upstream attempts in this period", formatCount(t.attempts)],
    ["per_attempt", "Decisions per attempt", perAttempt],
    [
      "latest",
      "Latest request with a decision",
      t.latestDecisionAt === null ? "none in this period" : formatTime(t.latestDecisionAt),
    ],
  ];
  const traces = pageHref("/traces", { period: chrome.period, theme: chrome.theme });
  return (
    <section class="panel" aria-labelledby="routing-trace" data-panel="routing-trace">
      <h2 id="routing-trace">Routing trace</h2>
      <div class="table-wrap">
        <table>
          <tbody>
            {rows.map(([id, label, value]) => (
              <tr data-trace={id}>
                <th scope="row">{label}</th>
                <td>{value}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="muted">
        Each request on <a href={traces}>Traces</a> opens to its attempts and routing decisions.
        {t.attempts > t.decisions
          ? ` ${formatCount(t.attempts - t.decisions)} attempts have no stored decision.`
          : ""}
      </p>
    </section>
  );
}
