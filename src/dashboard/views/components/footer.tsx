/** The page footer (spec 06 §1): period, refresh interval and the update marker. */
import type { PageChrome } from "../types.ts";

/** `Period: 24h · auto-refresh 60s · ready`. */
export function Footer({ chrome }: { chrome: PageChrome }) {
  return (
    <footer class="footer">
      Period: {chrome.period} · auto-refresh {chrome.refreshIntervalS}s ·{" "}
      <span id="dashboard-updated">ready</span>
    </footer>
  );
}
