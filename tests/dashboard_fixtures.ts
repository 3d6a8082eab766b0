/**
 * Shared by the dashboard tests: a three-account pool (one named like a
 * script tag), conversation turns that the mock's prompt cache can serve, and
 * readers for the Accounts page's table cells.
 */
import { postChat } from "./_helpers/eggpool.ts";
import type { TestEggPool } from "./_helpers/eggpool.ts";

/** An account name that must come out escaped. */
export const SCRIPT_NAME = '<script>alert("x")</script>';

/** Provider `p` over the mock with accounts acct-1 (key k-1), acct-2 (k-2) and SCRIPT_NAME (k-3). */
export function poolToml(mockUrl: string): string {
  const accounts = [["acct-1", "k-1"], ["acct-2", "k-2"], [SCRIPT_NAME, "k-3"]];
  const lines = ["[providers.p]", 'id = "p"', `base_url = "${mockUrl}"`];
  for (const [name, key] of accounts) {
    lines.push("[[providers.p.accounts]]", `name = '${name}'`, `api_key = "${key}"`);
  }
  return lines.join("\n") + "\n";
}

/** One turn of conversation `id`: a long system prompt, then a growing history. */
export async function conversationTurn(
  pool: TestEggPool,
  id: number,
  history: { role: string; content: string }[],
  turn: number,
): Promise<number> {
  if (history.length === 0) {
    const tools = `Tool ${id}: read files, edit files, run commands. `.repeat(40);
    history.push({ role: "system", content: `You are agent ${id}. ${tools}` });
  }
  history.push({ role: "user", content: `Step ${turn} of agent ${id}` });
  const res = await postChat(pool, { model: "mock-small", messages: history });
  const body = await res.json();
  history.push({ role: "assistant", content: String(body?.choices?.[0]?.message?.content) });
  return res.status;
}

/** `42.0%` as the page formats a share; an em dash without input. */
export function shareText(cached: unknown, input: unknown): string {
  const i = Number(input);
  return i === 0 ? "—" : `${(Number(cached) / i * 100).toFixed(1)}%`;
}

function decode(html: string): string {
  return html.replace(/<[^>]*>/g, "").replaceAll("&lt;", "<").replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&amp;", "&").trim();
}

function rowCells(html: string, attr: string, key: string): Record<string, string> {
  for (const m of html.matchAll(new RegExp(`<tr\\s[^>]*${attr}="([^"]*)"[^>]*>(.*?)</tr>`, "gs"))) {
    if (decode(m[1]) !== key) continue;
    const cells: Record<string, string> = {};
    for (const c of m[2].matchAll(/<td[^>]*data-col="([^"]*)"[^>]*>(.*?)<\/td>/gs)) {
      cells[decode(c[1])] = decode(c[2]);
    }
    return cells;
  }
  throw new Error(`No row ${attr}=${JSON.stringify(key)} on the page`);
}

/** The text of each cell of an account's row, by column label. */
export function accountCells(html: string, account: string): Record<string, string> {
  return rowCells(html, "data-account", account);
}

/** The text of each cell of a model's row in the prompt-cache table. */
export function modelCells(html: string, model: string): Record<string, string> {
  return rowCells(html, "data-model", model);
}
