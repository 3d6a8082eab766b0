import assert from "node:assert/strict";
import { renderPage } from "../render.ts";
import { AccountsPage } from "./accounts_page.tsx";
import type { AccountRow, AccountsPageProps, PageChrome } from "./types.ts";

const CHROME: PageChrome = {
  title: "Accounts",
  path: "/accounts",
  period: "7d",
  theme: "Nord",
  themes: ["default", "Nord"],
  refreshIntervalS: 60,
  showNav: true,
  signedIn: true,
};

const ROW: AccountRow = {
  name: "a1",
  providerId: "p",
  enabled: true,
  configured: true,
  health: "auth_failed",
  requests: 4,
  errors: 1,
  failedAttempts: 5,
  inputTokens: 1000,
  outputTokens: 10,
  cacheReadTokens: 250,
  cacheWriteTokens: 0,
  reasoningTokens: 7,
  costMicros: 12_345,
  estimatedCostMicros: 2_000,
  cacheShare: 0.25,
  livePins: 2,
  moves: { auth: 1, rate_limited: 2 },
  utilization: [0.5, undefined, 0.01],
  backoffUntil: null,
  backoffReason: "authentication_failed",
  failures: 3,
};

function render(props: Partial<AccountsPageProps>): string {
  return renderPage(
    <AccountsPage
      chrome={CHROME}
      accounts={[]}
      models={[]}
      enabledCount={0}
      disabledCount={0}
      showDisabled={false}
      affinityOn
      {...props}
    />,
  );
}

Deno.test("AccountsPage explains how to add an account when there is none", () => {
  const html = render({});
  assert.ok(html.startsWith('<!doctype html><html lang="en">'));
  assert.match(html, /\[\[providers\.&lt;id(&gt;|>)\.accounts\]\]/, "the config table to add");
  assert.ok(html.includes("eggpool check-config"));
  assert.ok(!html.includes("eggpool connect"));
  assert.ok(!html.includes('<table class="accounts-table"'));
  assert.match(html, /Period: 7d · auto-refresh 60s/);
  assert.match(html, /href="\/accounts\?period=7d&amp;theme=Nord" class="active"/);
});

Deno.test("AccountsPage renders moves, shares and the badge tooltip of a row", () => {
  const html = render({ accounts: [ROW], enabledCount: 1, disabledCount: 2 });
  assert.ok(html.includes("3 · rate_limited 2, auth 1"));
  assert.ok(html.includes("25.0%"), "cached share");
  assert.ok(html.includes("until the key changes"));
  assert.ok(html.includes('data-tooltip="Upstream rejected the credentials"'));
  assert.ok(html.includes('aria-label="Upstream rejected the credentials"'));
  assert.ok(html.includes("1 enabled · 2 disabled"));
  assert.ok(html.includes("show_disabled=1"), "a link to show the disabled accounts");
  const off = render({ accounts: [ROW], enabledCount: 1, affinityOn: false });
  assert.ok(!off.includes("rate_limited 2"));
  assert.ok(off.includes("Conversation affinity is off"));
});
