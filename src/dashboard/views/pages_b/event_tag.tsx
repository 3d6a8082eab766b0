/** An event type as a coloured tag with the badge tooltip texts of spec 06 §3. */

const TIPS: Readonly<Record<string, { tone: string; tip: string }>> = {
  disabled: { tone: "", tip: "Account disabled by operator" },
  auth_error: { tone: "error", tip: "Upstream rejected the credentials" },
  auth_failed: { tone: "error", tip: "Upstream rejected the credentials" },
  rate_limited: { tone: "warning", tip: "Upstream returned 429 recently" },
  quota_exhausted: { tone: "error", tip: "Upstream reported the quota is exhausted" },
  cooldown_active: { tone: "warning", tip: "Account is in cooldown after recent failures" },
  circuit_open: { tone: "error", tip: "Account is circuit-broken until cooldown expires" },
  circuit_close: { tone: "success", tip: "Account circuit-breaker recovered" },
  circuit_closed: { tone: "success", tip: "Account circuit-breaker recovered" },
  model_appeared: { tone: "", tip: "Model first seen in upstream catalog" },
  model_discovered: { tone: "", tip: "Model first seen in upstream catalog" },
  reservation_recovered: { tone: "", tip: "Reservation recovered after restart" },
  catalog_refresh_failed: { tone: "warning", tip: "Catalog refresh failed; using stale data" },
  recovered: { tone: "success", tip: "Account answered successfully again" },
};

/** The tag; unknown types get a neutral tag whose tooltip is the type itself. */
export function EventTag({ type }: { type: string }) {
  const t = TIPS[type] ?? { tone: "", tip: `Event type ${type}` };
  return (
    <span
      class={t.tone === "" ? "tag" : `tag ${t.tone}`}
      tabindex={0}
      data-tooltip={t.tip}
      aria-label={t.tip}
    >
      {type}
    </span>
  );
}

/** Details as `key=value` pairs, cut to 200 characters. */
export function detailText(details: Record<string, unknown>): string {
  const text = Object.entries(details)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" · ");
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
