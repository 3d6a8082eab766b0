/** The top bar (spec 06 §1): brand, navigation, theme picker, refresh and the mobile menu. */
import type { PageChrome } from "../types.ts";
import { pageHref } from "../_format.ts";

/** Pages in navigation order; only pages that exist are listed. */
const NAV_ITEMS: readonly { path: string; label: string }[] = [
  { path: "/", label: "Overview" },
  { path: "/reliability", label: "Reliability" },
  { path: "/routing", label: "Routing" },
  { path: "/cache", label: "Cache" },
  { path: "/accounts", label: "Accounts" },
  { path: "/models", label: "Models" },
  { path: "/latency", label: "Latency" },
  { path: "/pings", label: "Pings" },
  { path: "/bandwidth", label: "Bandwidth" },
  { path: "/traces", label: "Traces" },
  { path: "/events", label: "Events" },
  { path: "/timeseries", label: "Timeseries" },
  { path: "/runtime", label: "Runtime" },
];

/** Brand link plus, unless on the login page, navigation and page controls. */
export function TopBar({ chrome }: { chrome: PageChrome }) {
  const linkParams = { period: chrome.period, theme: chrome.theme };
  return (
    <header class="topbar">
      <a class="brand" href={pageHref("/", linkParams)}>
        <img src="/static/favicon.svg" alt="" width="22" height="22" />
        EggPool
      </a>
      {chrome.showNav && (
        <button
          type="button"
          class="menu-toggle"
          aria-expanded="false"
          aria-controls="page-menu"
          aria-label="Open page menu"
          data-tooltip="Open page menu"
          data-tooltip-pos="bottom"
        >
          ☰
        </button>
      )}
      {chrome.showNav && (
        <nav class="nav" id="page-menu" aria-label="Pages">
          {NAV_ITEMS.map((item) => (
            <a
              key={item.path}
              href={pageHref(item.path, linkParams)}
              class={item.path === chrome.path ? "active" : undefined}
              aria-current={item.path === chrome.path ? "page" : undefined}
            >
              {item.label}
            </a>
          ))}
        </nav>
      )}
      {chrome.showNav && <TopBarTools chrome={chrome} />}
    </header>
  );
}

function TopBarTools({ chrome }: { chrome: PageChrome }) {
  const keep = { ...chrome.keep, period: chrome.period };
  return (
    <div class="topbar-tools">
      <form method="get" action={chrome.path} class="theme-form">
        {Object.entries(keep).map(([name, value]) => (
          <input key={name} type="hidden" name={name} value={value} />
        ))}
        <select
          name="theme"
          data-autosubmit=""
          aria-label="Colour theme"
          data-tooltip="Colour theme"
          data-tooltip-pos="bottom"
        >
          {chrome.themes.map((name) => (
            <option key={name} value={name} selected={name === chrome.theme}>{name}</option>
          ))}
        </select>
        <noscript>
          <button type="submit">Apply</button>
        </noscript>
      </form>
      <a
        class="button"
        href={pageHref(chrome.path, { ...chrome.keep, ...keep, theme: chrome.theme })}
        data-refresh=""
        aria-label="Refresh page"
        data-tooltip="Refresh page"
        data-tooltip-pos="bottom"
      >
        ↻
      </a>
      {chrome.signedIn && (
        <a
          class="button"
          href="/logout"
          aria-label="Sign out of the dashboard"
          data-tooltip="Sign out of the dashboard"
          data-tooltip-pos="bottom"
        >
          Log out
        </a>
      )}
    </div>
  );
}
