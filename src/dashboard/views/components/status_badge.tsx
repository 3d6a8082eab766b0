/** Account status badges with the tooltip texts of spec 06 §3. */
import type { HealthState } from "../types.ts";

const BADGES: Readonly<Record<HealthState, { label: string; tone: string; tip: string }>> = {
  healthy: { label: "healthy", tone: "success", tip: "No recent failures" },
  disabled: { label: "disabled", tone: "", tip: "Account disabled by operator" },
  no_key: { label: "no key", tone: "warning", tip: "No credentials loaded for this account" },
  auth_failed: { label: "auth_failed", tone: "error", tip: "Upstream rejected the credentials" },
  quota_exhausted: {
    label: "quota_exhausted",
    tone: "error",
    tip: "Upstream reported the quota is exhausted",
  },
  rate_limited: { label: "rate_limited", tone: "warning", tip: "Upstream returned 429 recently" },
  circuit_open: {
    label: "circuit_open",
    tone: "error",
    tip: "Account is circuit-broken until cooldown expires",
  },
  cooldown_active: {
    label: "cooldown_active",
    tone: "warning",
    tip: "Account is in cooldown after recent failures",
  },
};

/** A coloured tag whose tooltip and accessible name explain the state. */
export function StatusBadge({ state }: { state: HealthState }) {
  const b = BADGES[state];
  return (
    <span
      class={b.tone === "" ? "tag" : `tag ${b.tone}`}
      tabindex={0}
      data-tooltip={b.tip}
      aria-label={b.tip}
    >
      {b.label}
    </span>
  );
}
