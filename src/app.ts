/**
 * Composition root: builds every part from a loaded config and wires them
 * together. Nothing here decides behaviour; it only connects.
 */
import type { LoadedConfig } from "./config/types.ts";
import { resolveServerApiKey } from "./config/credentials.ts";
import type { ResolvedConfig } from "./config/schema.ts";
import { AccountPool } from "./accounts/pool.ts";
import { BackoffBook } from "./accounts/backoffs.ts";
import { PinBook } from "./accounts/pins.ts";
import { AffinityRouter } from "./accounts/affinity.ts";
import { createPinStore, loadPins } from "./storage/pins_repo.ts";
import { CacheTally, withCacheTally } from "./stats/cache_tally.ts";
import { mountSessionsRoute } from "./http/sessions_route.ts";
import { mountCacheStatsRoute } from "./http/cache_stats_route.ts";
import { mountStatsApi } from "./http/stats_api/mod.ts";
import { CatalogRefresher } from "./catalog/refresher.ts";
import { scorerOptionsFromConfig, spendOffsetsFromConfig } from "./routing/scorer.ts";
import { LONGEST_WINDOW_MS, QuotaWindows } from "./routing/windows.ts";
import { withUsageObserver } from "./routing/usage_tap.ts";
import { createBackoffStore, loadBackoffs } from "./storage/backoffs_repo.ts";
import { createCatalogStore } from "./storage/catalog_repo.ts";
import { loadWindowUsage } from "./storage/windows_repo.ts";
import { mountRoutingRoutes } from "./http/backoffs_route.ts";
import { ModelCatalog } from "./catalog/catalog.ts";
import { listModels } from "./catalog/listing.ts";
import { openMigratedDatabase } from "./cli/_store.ts";
import type { Db } from "./storage/db.ts";
import { waitUntilWritable } from "./storage/db.ts";
import { CliError } from "./core/errors.ts";
import { syncConfigRows } from "./storage/accounts_repo.ts";
import { insertOperationalEvent, interruptPending } from "./storage/requests_repo.ts";
import { StatsRecorder } from "./stats/recorder.ts";
import { createProxy } from "./proxy/handler.ts";
import { transcoderSettings } from "./proxy/translate/settings.ts";
import { CapabilityBook } from "./routing/capabilities.ts";
import type { Price } from "./proxy/cost.ts";
import { fetchModelList } from "./proxy/models_fetch.ts";
import { CredentialProbe, scheduleReprobe } from "./proxy/credential_probe.ts";
import { buildAccounts, configRows } from "./proxy/runtime_accounts.ts";
import { Deadlines } from "./proxy/deadlines.ts";
import { createKeyChecker } from "./http/auth.ts";
import { createHttpHandler } from "./http/server.ts";
import type { Readiness } from "./http/server.ts";
import { mountRuntimeRoute, runtimeSnapshot } from "./http/runtime_route.ts";
import type { RuntimeSource } from "./http/runtime_route.ts";
import { mountDashboard } from "./dashboard/routes.ts";
import { TaskBoard } from "./ops/tasks.ts";
import { startReadinessProbe } from "./ops/readiness_probe.ts";
import { startAutoBackup } from "./ops/auto_backup.ts";
import { absolutePath } from "./config/paths.ts";
import { RuntimeDiagnostics } from "./ops/runtime_diagnostics.ts";
import { startRetention } from "./ops/retention_task.ts";
import { watchDatabaseFile } from "./ops/db_file_watch.ts";
import { LoopLagMonitor } from "./ops/loop_lag.ts";
import { EGGPOOL_VERSION } from "./cli/version.ts";
import { ProxyMetrics } from "./metrics/proxy_metrics.ts";
import { withMetrics } from "./metrics/sink.ts";
import { renderMetrics } from "./metrics/exposition.ts";
import { mountMetricsRoute } from "./http/metrics_route.ts";
import { insertAccountEvent } from "./storage/account_events_repo.ts";
import type { AccountEvent } from "./accounts/health.ts";

/**
 * Batched stats modes write a pending row only for requests in flight this
 * long (see `StatsRecorder`); `immediate` writes every one.
 */
const PENDING_ROW_MIN_AGE_MS = 1_000;
/** `write_mode = "balanced"` commits four times a second (docs/reliability.md). */
const BALANCED_FLUSH_MS = 250;
/** How long a start waits for another process's lock on the database before giving up. */
const STARTUP_LOCK_WAIT_MS = 60_000;
/** Stale-request finalizer cadence (09-decisions: every 60 s). */
const STALE_SWEEP_INTERVAL_MS = 60_000;
/** Margin past `upstream.read_timeout_s` before an open request counts as stale. */
const STALE_MARGIN_MS = 60_000;
/** Cadence of the pin write-behind and expiry sweep: a pin lost to a crash costs one cache miss. */
const PIN_FLUSH_INTERVAL_MS = 2_000;
/**
 * Score per live pinned conversation, as a multiple of the fairness band: one
 * pin more than another account puts an account outside the band, so new
 * conversations go to the least-pinned account unless utilization differs by more.
 */
const PIN_PENALTY_BAND_MULTIPLE = 1.05;
/** Pin penalty when the fairness band is 0. */
const PIN_PENALTY_FLOOR = 0.01;

/** Options for {@linkcode createApp}; tests inject a clock or a logger. */
export interface AppOptions {
  clock?: () => number;
  log?: (message: string) => void;
}

/** A built application: the request handler and what shutdown needs. */
export interface App {
  handler(req: Request, remoteAddr?: string): Promise<Response>;
  readonly db: Db;
  readonly recorder: StatsRecorder;
  readonly catalog: ModelCatalog;
  readonly startedAt: number;
  /** Background tasks with their last run and last error (`/api/stats/runtime`). */
  readonly tasks: TaskBoard;
  /** Makes open upstream calls end now (after the shutdown grace period). */
  abortInFlight(): void;
  /** Stops background work, flushes stats and closes the database. */
  close(): void;
}

/** Prices from `model_overrides`, provider-scoped fields winning (spec 02 §11). */
function priceBook(
  config: ResolvedConfig,
): (providerId: string, modelId: string) => Price | undefined {
  return (providerId, modelId) => {
    const g = config.model_overrides[modelId];
    const p = config.providers[providerId]?.model_overrides[modelId];
    const pick = <K extends keyof NonNullable<typeof g>>(k: K) => p?.[k] ?? g?.[k];
    const input = pick("input_price_per_1k");
    const output = pick("output_price_per_1k");
    const cacheRead = pick("cache_read_per_million_microdollars");
    const cacheWrite = pick("cache_write_per_million_microdollars");
    if ([input, output, cacheRead, cacheWrite].every((v) => v === undefined)) return undefined;
    return {
      inputMicrosPerMillion: input as number | undefined,
      outputMicrosPerMillion: output as number | undefined,
      cacheReadMicrosPerMillion: cacheRead as number | undefined,
      cacheWriteMicrosPerMillion: cacheWrite as number | undefined,
    };
  };
}

function flushIntervalMs(config: ResolvedConfig): number {
  switch (config.metrics.write_mode) {
    case "immediate":
      return 0;
    case "balanced":
      return BALANCED_FLUSH_MS;
    default:
      return config.metrics.flush_interval_s * 1000;
  }
}

/** Builds the application from a validated config. */
export async function createApp(loaded: LoadedConfig, options: AppOptions = {}): Promise<App> {
  const clock = options.clock ?? Date.now;
  const log = options.log ?? ((m: string) => console.error(`[eggpool] ${m}`));
  const c = loaded.config;
  const lockFree = await waitUntilWritable(c.database.path, {
    maxWaitMs: STARTUP_LOCK_WAIT_MS,
    onWait: () => log(`The database ${c.database.path} is locked by another process; waiting`),
  });
  if (!lockFree) {
    throw new CliError(
      `the database ${c.database.path} stayed locked by another process for ` +
        `${
          STARTUP_LOCK_WAIT_MS / 1000
        } s; end that process (a backup, a sqlite3 shell) and start again`,
    );
  }
  const { db } = openMigratedDatabase(c);
  const check = db.quickCheck();
  if (check !== "ok") {
    db.close();
    throw new Error(`Database check failed for ${c.database.path}: ${check}`);
  }
  const accounts = buildAccounts(loaded);
  const rows = configRows(loaded, accounts);
  const ids = syncConfigRows(db, rows.providers, rows.accounts, clock());
  const recovered = interruptPending(db, clock(), { errorClass: "process_interrupted" });
  if (recovered > 0) {
    insertOperationalEvent(db, "crash_recovery", { interrupted: recovered }, clock());
    log(`Crash recovery: ${recovered} request(s) left open by the last run marked interrupted`);
  }
  const recorder = new StatsRecorder({
    db,
    ids: { accountId: (name) => (name === undefined ? null : ids.get(name) ?? null) },
    clock,
    flushIntervalMs: flushIntervalMs(c),
    maxBuffered: c.metrics.max_buffered_events,
    pendingMinAgeMs: Math.min(flushIntervalMs(c), PENDING_ROW_MIN_AGE_MS),
    bucketMs: c.metrics.timeseries_bucket_s * 1000,
    log,
  });
  // Quota windows and backoffs survive restarts (issue #4).
  const windows = new QuotaWindows({ clock });
  windows.rebuild(loadWindowUsage(db, clock() - LONGEST_WINDOW_MS));
  const restored = loadBackoffs(db, clock());
  if (restored.clearedAuth > 0) {
    log(`Cleared ${restored.clearedAuth} authentication backoff(s): the account key changed`);
  }
  const backoffs = new BackoffBook({ clock, store: createBackoffStore(db), log });
  backoffs.restore(restored.entries);
  const catalog = new ModelCatalog(Object.keys(c.providers), {
    freshnessMs: c.models.allow_stale_catalog ? undefined : c.models.stale_after_s * 1000,
  });
  const refresher = new CatalogRefresher({
    config: c,
    catalog,
    accounts,
    fetchList: fetchModelList,
    store: createCatalogStore(db),
    clock,
    log,
    unrefTimer: Deno.unrefTimer,
  });
  const { stale, summary } = await refresher.startup();
  // Each failed fetch is named with its cause, so a wrong key or a dead host
  // shows in the first lines of the log instead of as a later "not found".
  for (const p of summary?.providers ?? []) {
    for (const error of p.errors) {
      log(`warning: cannot fetch the model list of provider '${p.providerId}': ${error}`);
    }
  }
  if (stale.length > 0) {
    const saved = stale.filter((id) => refresher.hasSavedList(id));
    const never = stale.filter((id) => !refresher.hasSavedList(id));
    const whats = [
      ...(saved.length > 0
        ? [`the model catalog of ${saved.join(", ")} is older than ${c.models.stale_after_s} s`]
        : []),
      ...(never.length > 0 ? [`no model list of ${never.join(", ")} was ever fetched`] : []),
    ];
    if (!c.models.allow_stale_catalog) {
      recorder.close();
      for (const a of accounts) a.client?.close();
      db.close();
      throw new Error(`Cannot start: ${whats.join(" and ")}, and allow_stale_catalog is false`);
    }
    if (saved.length > 0) log(`warning: ${whats[0]}; serving the last saved list`);
    if (never.length > 0) {
      log(
        `warning: no model list of ${never.join(", ")} was ever fetched; ` +
          "only their configured static models are served until a refresh succeeds",
      );
    }
  }
  refresher.start();
  // Prompt-cache affinity (issue #5): pins restored from the last run.
  const idleMs = c.routing.affinity_idle_s * 1000;
  const pinStore = createPinStore(db);
  const pins = c.routing.affinity === "on"
    ? new PinBook({ clock, idleMs, maxPins: c.routing.affinity_max_pins, store: pinStore })
    : undefined;
  pins?.restore(loadPins(db, clock() - idleMs));
  const scorer = scorerOptionsFromConfig(c);
  // Account state changes (issue #14): one event and one log line each, never per request.
  const accountEvent = (e: AccountEvent) => {
    const d = e.details;
    const code = typeof d.status_code === "number" ? ` (HTTP ${d.status_code})` : "";
    const until = typeof d.until === "string" ? ` until ${d.until}` : "";
    log(`Account '${e.account}': ${e.type}${code}${until}`);
    try {
      insertAccountEvent(db, e);
    } catch (error) {
      log(`Cannot record account event: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const pool = new AccountPool(accounts, {
    events: accountEvent,
    clock,
    windows,
    backoffs,
    scorer,
    spendOffsets: spendOffsetsFromConfig(c),
    supports: (account, model, now) => catalog.supports(account, model, now),
    pinnedLoad: pins && {
      count: (name) => pins.liveCount(name),
      penalty: Math.max(PIN_PENALTY_FLOOR, scorer.fairnessEpsilon * PIN_PENALTY_BAND_MULTIPLE),
    },
  });
  const cacheTally = new CacheTally();
  // GET /metrics counters (issue #14): bumped once per finalized request.
  const metrics = c.metrics.enabled
    ? new ProxyMetrics({ knownModel: (id) => catalog.entries({ modelId: id }).length > 0 })
    : undefined;
  const tallied = withCacheTally(withUsageObserver(recorder, pool), cacheTally);
  const shutdown = new AbortController();
  const deadlines = new Deadlines();
  // A 401 parks an account only when its key also fails the models endpoint (issue #12).
  const credentials = new CredentialProbe({
    endpoint: (id) => c.providers[id]?.models_endpoint,
    fetchList: fetchModelList,
    clock,
  });
  const reprobeMs = c.upstream.credential_reprobe_s * 1000;
  const stopReprobe = reprobeMs > 0 ? scheduleReprobe(credentials, pool, reprobeMs, log) : () => {};
  const capabilities = new CapabilityBook(c.model_capabilities, c.providers);
  const proxy = createProxy({
    credentials,
    deadlines,
    catalog,
    pool,
    sink: metrics === undefined ? tallied : withMetrics(tallied, metrics),
    clock,
    price: priceBook(c),
    noPriceFallback: c.pricing.fallback === "off",
    maxBodyBytes: c.server.max_request_body_bytes,
    bodyTimeoutMs: c.server.body_timeout_s * 1000,
    maxResponseBodyBytes: c.upstream.max_response_body_bytes,
    maxAttempts: 1 + c.routing.max_retries_before_stream,
    quotaCooldownMs: c.routing.quota_exhausted_cooldown_seconds * 1000,
    shutdown: shutdown.signal,
    log,
    affinity: pins && new AffinityRouter(pins),
    transcoder: transcoderSettings(c.transcoder),
    capabilities,
  });
  const flushPins = () => {
    pins?.sweep();
    pinStore.flush();
  };
  let pinsFailing = false;
  const pinTimer = setInterval(() => {
    // Both retry on this timer what a locked or full database refused earlier.
    backoffs.retryUnsaved();
    try {
      flushPins();
      if (pinsFailing) log("Pin write-behind works again");
      pinsFailing = false;
    } catch (error) {
      if (!pinsFailing) {
        const why = error instanceof Error ? error.message : String(error);
        log(`Pin write-behind failed: ${why}; keeping the changes to retry`);
      }
      pinsFailing = true;
    }
  }, PIN_FLUSH_INTERVAL_MS);
  Deno.unrefTimer(pinTimer);
  const staleAfterMs = c.upstream.read_timeout_s * 1000 + STALE_MARGIN_MS;
  const tasks = new TaskBoard({ clock, log });
  tasks.define("stale_finalizer", {
    label: "Stale-request finalizer",
    intervalMs: STALE_SWEEP_INTERVAL_MS,
  });
  const lag = new LoopLagMonitor();
  const startedAt = clock();
  const sweep = setInterval(() =>
    tasks.run("stale_finalizer", () => {
      const cutoff = clock() - staleAfterMs;
      const expired = recorder.expireStale(cutoff);
      recorder.flush();
      // A throw is logged ("Stale-request finalizer failed: …") and recorded by the task board.
      const orphaned = interruptPending(db, clock(), {
        startedBefore: cutoff,
        skip: recorder.inFlightIds(),
        errorClass: "stale_request",
      });
      if (expired + orphaned > 0) {
        insertOperationalEvent(db, "stale_request_finalizer", { expired, orphaned }, clock());
      }
    }), STALE_SWEEP_INTERVAL_MS);
  Deno.unrefTimer(sweep);

  const stopRetention = startRetention({ config: c, db, tasks, clock, log });
  const fileWatch = watchDatabaseFile({
    db,
    tasks,
    intervalMs: c.maintenance.db_file_check_interval_s * 1000,
    clock,
    log,
    resync: (fresh) => {
      const again = syncConfigRows(fresh, rows.providers, rows.accounts, clock());
      ids.clear();
      for (const [name, id] of again) ids.set(name, id);
    },
  });
  const writeProbe = startReadinessProbe({ db, settings: c.readiness_probe, clock, log });
  const stopBackups = startAutoBackup({
    settings: c.backup,
    configPath: loaded.path,
    dbPath: absolutePath(c.database.path, Deno.cwd()),
    env: {
      get: loaded.env,
      home: loaded.env("HOME") ?? "/",
      cwd: Deno.cwd(),
      uid: Deno.uid() ?? 0,
    },
    clock,
    log,
  });
  // Startup may wait out another process's lock; serving must not (issue #12):
  // SQLite waits on the event loop, so writes now fail fast and are retried.
  db.setBusyTimeout(c.maintenance.write_busy_timeout_ms);

  const readiness = (): Readiness => {
    if (!db.isOpen) return { ok: false, reason: "database not connected" };
    const probeProblem = writeProbe.problem();
    if (probeProblem !== undefined) return { ok: false, reason: probeProblem };
    const replaced = fileWatch.problem();
    if (replaced !== undefined) return { ok: false, reason: replaced };
    const writeProblem = recorder.writeProblem();
    if (writeProblem !== undefined) return { ok: false, reason: writeProblem };
    if (accounts.length === 0) return { ok: false, reason: "no accounts configured" };
    if (!accounts.some((a) => a.enabled)) return { ok: false, reason: "no enabled accounts" };
    if (
      !accounts.some((a) => a.enabled && (a.key !== undefined || a.provider.auth.mode === "none"))
    ) {
      return { ok: false, reason: "no loaded credentials" };
    }
    if (catalog.size === 0) {
      const why = catalog.providerProblems().map((p) => p.reason).join("; ");
      return { ok: false, reason: `no usable model catalog${why === "" ? "" : `: ${why}`}` };
    }
    return { ok: true };
  };
  const keys = createKeyChecker(resolveServerApiKey(loaded));
  const handler = createHttpHandler({
    keys,
    security: c.security,
    bindHost: c.server.host,
    accessLog: c.server.access_log,
    log,
    clock,
    proxy: {
      handle: (req, protocol, ip, headers) => proxy.handle(req, protocol, ip, headers),
      countTokens: (req, headers) => proxy.countTokens(req, headers),
      responses: (req, ip, headers) => proxy.responses(req, ip, headers),
      listModels: () =>
        listModels(catalog, {
          collapse: c.models.collapse_models,
          priorities: Object.fromEntries(
            Object.values(c.providers).map((p) => [p.id, p.routing_priority]),
          ),
          isVisible: (provider, model) =>
            c.models.expose_mode === "intersection"
              ? pool.servedByEvery(c.models.collapse_models ? undefined : provider, model)
              : pool.canServe(provider, model, {
                healthyOnly: c.models.expose_mode === "healthy_union",
              }),
          capabilities: capabilities.empty ? undefined : (p, m) => capabilities.get(p, m),
        }),
    },
    readiness,
    mount: (app) => {
      mountRoutingRoutes(app, {
        keys,
        isPublic: c.dashboard.public,
        pool,
        clock,
        affinity: (name) => ({
          livePins: pins?.liveCount(name) ?? 0,
          moves: pins?.movesFrom(name) ?? {},
          cacheShare: cacheTally.share(name),
        }),
        catalog: (name) => refresher.accountState(name),
      });
      const diagnostics = new RuntimeDiagnostics({
        configPath: loaded.path,
        configDigest: loaded.digest,
        startedAt,
        dbPath: absolutePath(c.database.path, Deno.cwd()),
        accounts,
        inFlight: (name) => pool.inFlight(name),
        clock,
      });
      const runtime: RuntimeSource = {
        clock,
        startedAt,
        version: EGGPOOL_VERSION,
        dbPath: c.database.path,
        dbSizes: () => db.fileSizes(),
        recorder: () => recorder.stats(),
        flushIntervalMs: flushIntervalMs(c),
        tasks: () => tasks.list(),
        lag: () => lag.stats(),
        readiness,
        diagnostics,
      };
      // The dashboard's sign-in also opens the stats API to the browser (one gate for both).
      const session = mountDashboard(app, {
        settings: c.dashboard,
        keys,
        localKey: resolveServerApiKey(loaded),
        db,
        clock,
        flush: () => recorder.flush(),
        pool,
        pins,
        log,
        runtime: () => runtimeSnapshot(runtime),
        diagnostics: () => diagnostics.read(),
        routingTrace: c.routing.trace,
        priorities: Object.fromEntries(
          Object.values(c.providers).map((p) => [p.id, p.routing_priority]),
        ),
      });
      mountSessionsRoute(app, { keys, pins, clock, session });
      // `[dashboard] enabled = false` drops the dashboard and its stats views; the
      // routes the CLI reads (runtime-status, accounts status) stay.
      if (c.dashboard.enabled) {
        mountCacheStatsRoute(app, {
          db,
          keys,
          isPublic: c.dashboard.public,
          clock,
          flush: () => recorder.flush(),
          moves: pins,
        });
        const price = priceBook(c);
        mountStatsApi(app, {
          db,
          keys,
          isPublic: c.dashboard.public,
          clock,
          flush: () => recorder.flush(),
          pool,
          catalog,
          price,
          session,
        });
      }
      if (metrics !== undefined) {
        mountMetricsRoute(app, keys, () =>
          renderMetrics({
            clock,
            version: EGGPOOL_VERSION,
            startedAt,
            proxy: metrics,
            accounts: (now) => pool.status(now),
            capacities: { requests: scorer.requestCapacity, tokens: scorer.tokenCapacity },
            recorder: () => recorder.stats(),
            lag: () => lag.stats(),
          }));
      }
      mountRuntimeRoute(app, keys, runtime, session);
    },
  });
  let closed = false;
  return {
    handler,
    db,
    recorder,
    catalog,
    startedAt,
    tasks,
    abortInFlight: () => shutdown.abort(),
    close() {
      if (closed) return;
      closed = true;
      clearInterval(sweep);
      clearInterval(pinTimer);
      stopRetention();
      fileWatch.stop();
      writeProbe.stop();
      stopBackups();
      try {
        flushPins();
      } catch (error) {
        log(`Pin write-behind failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      void refresher.stop();
      stopReprobe();
      lag.stop();
      shutdown.abort();
      deadlines.close();
      recorder.close();
      for (const a of accounts) a.client?.close();
      db.close();
    },
  };
}
