/**
 * Props of the dashboard views: plain data prepared by `routes.ts`. Views
 * import only these types, formatting helpers and other views.
 */

import type { UsageTotals } from "../../storage/dashboard_repo.ts";
import type { RequestOutcomes } from "../../storage/overview_repo.ts";
import type { HeatmapView } from "../heatmap.ts";

export type { HeatmapView, RequestOutcomes };

/** The period selector's choices (spec 06 §1). */
export type Period = "1h" | "24h" | "7d" | "30d";

/** Everything the shared layout needs. */
export interface PageChrome {
  /** `<title>` and page heading. */
  title: string;
  /** Path of the current page (`/accounts`); the nav marks it active and forms submit to it. */
  path: string;
  period: Period;
  /** The active theme and every theme the picker offers. */
  theme: string;
  themes: readonly string[];
  refreshIntervalS: number;
  /** True on pages that reload their content every `refreshIntervalS` (spec 06 §2). */
  autoRefresh?: boolean;
  /** True on pages that draw charts: the layout loads Chart.js. */
  charts?: boolean;
  /** Extra query parameters the page keeps when the theme changes. */
  keep?: Readonly<Record<string, string>>;
  /** False on the login page: no navigation or page controls. */
  showNav: boolean;
  /** True when the viewer is signed in with a session cookie (shows "Log out"). */
  signedIn: boolean;
}

/** Account health, as the status badge shows it (spec 06 §3 badge texts). */
import type { HealthState } from "../../accounts/health.ts";
export type { HealthState };

/** One row of the Accounts table. */
export interface AccountRow {
  name: string;
  providerId: string;
  enabled: boolean;
  /** False for an account that has history but is no longer in the config. */
  configured: boolean;
  health: HealthState;
  /** What the health rests on, e.g. "until 2026-01-01 12:00:00 UTC"; shown beside the badge. */
  healthNote?: string;
  requests: number;
  errors: number;
  /** Failed upstream attempts on the account, including those another account then served. */
  failedAttempts: number;
  /** Fresh input + cache read + cache write. */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  costMicros: number;
  /** Cost of requests priced by estimate; undefined where it is not kept apart. */
  estimatedCostMicros?: number;
  avgLatencyMs?: number;
  /** Output tokens per second of request wall time. */
  tokensPerSecond?: number;
  /** Cache read / all input; undefined without input. */
  cacheShare?: number;
  livePins: number;
  /** Conversations moved away from the account since startup, by reason. */
  moves: Readonly<Record<string, number>>;
  /** Use of the 5 h / 7 d / 30 d quota windows; undefined for an account the pool does not hold. */
  windows: readonly [WindowUse | undefined, WindowUse | undefined, WindowUse | undefined];
  /** Request bytes received from clients in the period. */
  bytesIn: number;
  /** Response bytes emitted to clients in the period. */
  bytesOut: number;
  /** Requests in flight now, each holding a reservation; undefined when not in the pool. */
  reservations?: number;
  /** Tokens those requests reserve (spec 03 §7 estimates); undefined when not in the pool. */
  reservedTokens?: number;
  backoffReason?: string;
  /** Epoch ms; null = until the credential changes; undefined = no backoff. */
  backoffUntil?: number | null;
  failures: number;
}

/** One quota window's use against its limits (spec 03 §5), finished requests only. */
export interface WindowUse {
  requests: number;
  /** Request capacity × weight. */
  requestLimit?: number;
  tokens: number;
  /** Token capacity × weight. */
  tokenLimit?: number;
  /** Spend in the window plus the account's known external spend (offset). */
  spentMicros: number;
  /** `[limits]` budget × weight; undefined when spend is not capped. */
  limitMicros?: number;
}

/** One row of the per-model prompt-cache table. */
export interface ModelCacheRow {
  modelId: string;
  requests: number;
  inputTokens: number;
  cacheReadTokens: number;
  cacheShare?: number;
  moves: Readonly<Record<string, number>>;
}

/** Props of the Accounts page. */
export interface AccountsPageProps {
  chrome: PageChrome;
  /** The rows to show (disabled ones only when `showDisabled`). */
  accounts: readonly AccountRow[];
  models: readonly ModelCacheRow[];
  enabledCount: number;
  disabledCount: number;
  showDisabled: boolean;
  /** `[routing].affinity`: moves and pins exist only when on. */
  affinityOn: boolean;
}

/** Props of the login page. */
export interface LoginPageProps {
  chrome: PageChrome;
  /** Same-site path to return to after signing in. */
  next: string;
  error?: string;
}

/** The Overview's period totals: the rollup sums plus outcomes and streaming (times in ms). */
export interface OverviewFigures extends UsageTotals {
  completed: number;
  streamed: number;
  streamedFirstByteMsSum: number;
  streamedFirstByteCount: number;
}

/** Requests still pending (System Health row). */
export interface PendingView {
  count: number;
  oldestAgeMs?: number;
  stale: number;
}

/** A row of the Overview's account breakdown or top models. */
export interface UsageShareRow {
  name: string;
  /** Provider id for accounts; undefined for models. */
  providerId?: string;
  requests: number;
  errors: number;
  costMicros: number;
  /** Share of all requests in the period. */
  share: number;
}

/** One recent event, details already redacted and truncated. */
export interface EventRow {
  occurredAt: number;
  source: "operational" | "account";
  eventType: string;
  account?: string;
  details: string;
}

/** Requests and errors per chart step (the body of `/api/timeseries`). */
export interface RequestSeries {
  period: Period;
  stepMs: number;
  buckets: readonly { start: number; requests: number; errors: number }[];
  totals: { requests: number; errors: number };
}

/** Props of the Overview page. */
export interface OverviewPageProps {
  chrome: PageChrome;
  figures: OverviewFigures;
  /** How the period's requests ended; the parts sum to `figures.requests`. */
  outcomes: RequestOutcomes;
  series: RequestSeries;
  /** Tokens per day over the last 180 days. */
  heatmap: HeatmapView;
  pending: PendingView;
  accounts: readonly UsageShareRow[];
  enabledCount: number;
  disabledCount: number;
  models: readonly UsageShareRow[];
  events: readonly EventRow[];
}
