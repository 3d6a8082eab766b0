/** The shared page layout (spec 06 §1). */
import type { ComponentChildren } from "preact";
import type { PageChrome } from "./types.ts";
import { Footer } from "./components/footer.tsx";
import { TopBar } from "./components/top_bar.tsx";

/** Head, top bar, the page's content and the footer. */
export function Layout({ chrome, children }: { chrome: PageChrome; children: ComponentChildren }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{`${chrome.title} · EggPool`}</title>
        <link rel="icon" type="image/svg+xml" href="/static/favicon.svg" />
        <link rel="stylesheet" href="/static/dashboard.css" />
        <link
          rel="stylesheet"
          href={`/static/theme.css?${new URLSearchParams({ theme: chrome.theme })}`}
        />
        {chrome.charts && <script src="/static/chart.umd.min.js" defer></script>}
        <script src="/static/dashboard.js" defer></script>
      </head>
      <body data-refresh-s={chrome.autoRefresh ? String(chrome.refreshIntervalS) : undefined}>
        <TopBar chrome={chrome} />
        <main id="dashboard-content">{children}</main>
        <Footer chrome={chrome} />
      </body>
    </html>
  );
}
