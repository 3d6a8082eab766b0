import type { ProviderTemplate, TemplateCategory } from "../../config/templates.ts";

const MARK = { verified: "✓", experimental: "~", unverified: "?" } as const;
const CATEGORY_ORDER: readonly TemplateCategory[] = ["direct", "aggregator", "local"];
const CATEGORY_TITLE: Record<TemplateCategory, string> = {
  direct: "Direct providers",
  aggregator: "Aggregators",
  local: "Local servers (connect asks for the base URL)",
};

/** Templates grouped by category in menu order. */
export function byCategory(
  templates: ReadonlyMap<string, ProviderTemplate>,
): Array<[TemplateCategory, ProviderTemplate[]]> {
  return CATEGORY_ORDER.map((c) => [c, [...templates.values()].filter((t) => t.category === c)]);
}

/**
 * `connect list` (spec 07 §3): one line per template with its URL, status mark
 * and, when configured, its routing priority; then the counts and the legend.
 */
export function renderTemplateList(
  templates: ReadonlyMap<string, ProviderTemplate>,
  configured: ReadonlyMap<string, number>,
): string {
  const lines = ["Available providers:"];
  for (const [category, list] of byCategory(templates)) {
    if (list.length === 0) continue;
    lines.push("", `  ${CATEGORY_TITLE[category]}:`);
    for (const t of list) {
      const priority = configured.get(t.id);
      const tag = priority !== undefined
        ? ` (priority ${priority}, configured)`
        : t.status === "unverified"
        ? ""
        : " (priority 0)";
      const notes = t.notes === "" ? "" : ` — ${t.notes}`;
      lines.push(
        `  ${t.recommended ? "*" : " "} ${t.id}: ${t.displayName} (${t.baseUrl}) [${
          MARK[t.status]
        }]${tag}${notes}`,
      );
    }
  }
  const count = (s: ProviderTemplate["status"]) =>
    [...templates.values()].filter((t) => t.status === s).length;
  lines.push(
    "",
    `  ${count("verified")} verified, ${count("experimental")} experimental, ${
      count("unverified")
    } unverified`,
    "  ✓ verified  ~ experimental  ? unverified  * recommended",
    "",
  );
  return lines.join("\n");
}
