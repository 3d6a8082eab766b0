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
  windows: [
    {
      requests: 2_100,
      requestLimit: 2_500,
      tokens: 1_000,
      tokenLimit: 500_000_000,
      spentMicros: 6_000_000,
      limitMicros: 12_000_000,
    },
    undefined,
    { requests: 3, requestLimit: 150_000, tokens: 10, tokenLimit: 30e9, spentMicros: 0 },
  ],
  bytesIn: 2_048,
  bytesOut: 1_572_864,
  reservations: 2,
  reservedTokens: 3_500,
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

Deno.test("AccountsPage shows window use against its limits, reservations and bandwidth", () => {
  const html = render({ accounts: [ROW], enabledCount: 1 });
  const cell = (col: string) => {
    const m = new RegExp(`<td[^>]*data-col="${col}"[^>]*>(.*?)</td>`, "s").exec(html);
    assert.ok(m, col);
    return m[1];
  };
  // 5h: requests 2,100 of 2,500 (84%) lead tokens (0.0002%) and spend (50%): a warning tag.
  const five = cell("5h util.");
  assert.match(
    five,
    /^<span class="tag warning" tabindex="0" data-tooltip="([^"]*)" aria-label="\1">84\.0%<\/span> <small class="util-detail">2\.1k \/ 2\.5k requests<\/small>$/,
  );
  assert.ok(
    five.includes(
      "5h window: 2.1k / 2.5k requests (84.0%) · 1k / 500M tokens (0.0%) · " +
        "$6.00 / $12.00 spend (50.0%); finished requests only",
    ),
  );
  assert.equal(cell("7d util."), "—", "no window: an em dash");
  assert.match(cell("30d util."), /^<span class="tag" [^>]*>0\.0%<\/span>/);
  assert.ok(!cell("30d util.").includes("spend"), "no spend budget, no spend dimension");
  assert.equal(cell("Reserved"), "3,500");
  assert.equal(cell("Reservations"), "2");
  assert.equal(cell("BW received"), "2.0 KiB");
  assert.equal(cell("BW emitted"), "1.5 MiB");
  for (const col of ["Reserved", "Reservations", "5h util.", "BW received", "BW emitted"]) {
    assert.match(
      html,
      new RegExp(`<td\\s+class="p3 num" data-col="${col}"`),
      `${col} is priority 3`,
    );
  }
  const removed = render({
    accounts: [{
      ...ROW,
      name: "gone",
      configured: false,
      windows: [undefined, undefined, undefined],
      reservations: undefined,
      reservedTokens: undefined,
    }],
  });
  assert.match(removed, /data-col="Reserved">—</);
  assert.match(removed, /data-col="30d util.">—</);
});
