/**
 * The accounts EggPool can send to and the router over them: eligibility
 * gates, the quota-fair scorer, priority tiers and fair rotation, backoffs,
 * circuit breakers and in-flight reservations (spec 03 §4–§10). Pure: time
 * comes from the injected clock, persistence through the backoff store port.
 */
import type { Failure } from "../routing/classify.ts";
import { FairnessRotor, rankCandidates } from "../routing/rank.ts";
import type { PerWindow, ScorerOptions } from "../routing/scorer.ts";
import { DEFAULT_SCORER_OPTIONS, scoreAccount, weightedCapacities } from "../routing/scorer.ts";
import { QuotaWindows, USAGE_BUFFER_LENGTH } from "../routing/windows.ts";
import type { AccountWindows, UsageObservation } from "../routing/windows.ts";
import type { AccountRuntime } from "./account.ts";
import { hasCredentials } from "./account.ts";
import { BackoffBook } from "./backoffs.ts";
import { CircuitBreaker } from "./circuit.ts";
import type { CircuitOptions } from "./circuit.ts";
import type { Candidate, Exclusion, RouteRequest, RoutingDecision } from "./decision.ts";
import { accountStatus } from "./status.ts";
import { CIRCUIT_CLASSES, EXCLUSION_OF_BACKOFF, legacyFailure } from "./_failures.ts";
import type { CoolDownOptions } from "./_failures.ts";
import type { AccountStatus, LastError } from "./status.ts";
import { eventOfReason } from "./health.ts";
import type { AccountEventSink, AccountEventType } from "./health.ts";

// Re-exported so modules that imported these from pool.ts keep compiling.
export type { AccountRuntime, ProviderRuntime } from "./account.ts";
export type { Exclusion, RouteRequest, RoutingDecision } from "./decision.ts";
export type { CoolDownOptions } from "./_failures.ts";

/** Does the catalog say this account serves this model (per-account lists, freshness)? */
export type SupportCheck = (account: AccountRuntime, modelId: string, now: number) => boolean;

/** Options for {@linkcode AccountPool}; only `clock` is required. */
export interface AccountPoolOptions {
  clock: () => number;
  /** Default: spec defaults (`DEFAULT_SCORER_OPTIONS`). */
  scorer?: ScorerOptions;
  /** Default: empty in-memory windows. */
  windows?: QuotaWindows;
  /** Default: an in-memory book without persistence. */
  backoffs?: BackoffBook;
  /** Default: every account of a serving provider serves the model. */
  supports?: SupportCheck;
  /** Known external spend per account and window (`*_offset_microdollars`). */
  spendOffsets?: ReadonlyMap<string, PerWindow>;
  circuit?: CircuitOptions;
  /** Uniform in [0, 1) for `random` fairness; default `Math.random`. */
  random?: () => number;
  /**
   * Live conversations pinned to each account (prompt-cache affinity) and
   * the score added per pin, so new conversations avoid crowded accounts.
   */
  pinnedLoad?: PinnedLoad;
  /**
   * Told once per change of an account's state (issue #14): a new streak of
   * rate limits, quota, auth or transient failures, a circuit opening or
   * closing, a recovery. Never per request.
   */
  events?: AccountEventSink;
}

/** The placement hook of prompt-cache affinity: live pins per account and their weight. */
export interface PinnedLoad {
  count(account: string): number;
  /** Score added per live pin. */
  penalty: number;
}

/** One account's mutable routing state. */
interface SlotState {
  circuit: CircuitBreaker;
  inFlight: number;
  /** Tokens reserved by the requests in flight. */
  reservedTokens: number;
  offsets?: PerWindow;
  lastError?: LastError;
}

/** A configured account with its state. */
interface Slot extends SlotState {
  account: AccountRuntime;
  /** Position in name order. */
  ord: number;
  windows: AccountWindows;
  /** Capacities × weight, computed once. */
  capacities: Float64Array;
}

/** Accounts, their health and the router over them. */
export class AccountPool {
  readonly accounts: readonly AccountRuntime[];
  readonly windows: QuotaWindows;
  readonly backoffs: BackoffBook;
  readonly #clock: () => number;
  readonly #scorer: ScorerOptions;
  readonly #supports?: SupportCheck;
  readonly #random: () => number;
  readonly #circuitOptions?: CircuitOptions;
  readonly #pinned?: PinnedLoad;
  readonly #events?: AccountEventSink;
  /** Per-account routing state, in account-name order (the ranking tie-break order). */
  readonly #slots: Slot[];
  readonly #byName = new Map<string, Slot>();
  readonly #byProvider = new Map<string, Slot[]>();
  readonly #orphans = new Map<string, SlotState>();
  readonly #rotor = new FairnessRotor();
  readonly #usage = new Float64Array(USAGE_BUFFER_LENGTH);

  constructor(accounts: readonly AccountRuntime[], options: AccountPoolOptions) {
    this.accounts = accounts;
    this.#clock = options.clock;
    this.#scorer = options.scorer ?? DEFAULT_SCORER_OPTIONS;
    this.windows = options.windows ?? new QuotaWindows({ clock: options.clock });
    this.backoffs = options.backoffs ?? new BackoffBook({ clock: options.clock });
    this.#supports = options.supports;
    this.#random = options.random ?? Math.random;
    const sorted = [...accounts].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.#slots = sorted.map((account, ord) => ({
      account,
      ord,
      circuit: new CircuitBreaker(options.circuit),
      inFlight: 0,
      reservedTokens: 0,
      offsets: options.spendOffsets?.get(account.name),
      windows: this.windows.of(account.name),
      capacities: weightedCapacities(account.weight, this.#scorer),
    }));
    for (const slot of this.#slots) {
      this.#byName.set(slot.account.name, slot);
      const list = this.#byProvider.get(slot.account.provider.id) ?? [];
      list.push(slot);
      this.#byProvider.set(slot.account.provider.id, list);
    }
    this.#circuitOptions = options.circuit;
    this.#pinned = options.pinnedLoad;
    this.#events = options.events;
  }

  #emit(account: string, type: AccountEventType, at: number, details: Record<string, unknown>) {
    if (this.#events === undefined) return;
    try {
      this.#events({ account, type, at, details });
    } catch {
      // The sink logs its own failures; routing never depends on them.
    }
  }

  /** The account's state; names unknown to the pool get a detached one on first use. */
  #slot(name: string): SlotState {
    let slot: SlotState | undefined = this.#byName.get(name) ?? this.#orphans.get(name);
    if (slot === undefined) {
      slot = { circuit: new CircuitBreaker(this.#circuitOptions), inFlight: 0, reservedTokens: 0 };
      this.#orphans.set(name, slot);
    }
    return slot;
  }

  /** Why the slot's account cannot serve the request now, or undefined when it is eligible. */
  #gate(
    slot: Slot,
    modelId: string,
    now: number,
    attempted?: ReadonlySet<string>,
  ): Exclusion | undefined {
    const a = slot.account;
    if (attempted?.has(a.name)) return { account: a.name, reason: "attempted" };
    if (!a.enabled) return { account: a.name, reason: "disabled" };
    if (!hasCredentials(a)) return { account: a.name, reason: "no_key" };
    const b = this.backoffs.blocking(a.name, modelId, now);
    if (b !== undefined) {
      const ex: Exclusion = { account: a.name, reason: EXCLUSION_OF_BACKOFF[b.reason] };
      if (b.untilMs !== undefined) ex.untilMs = b.untilMs;
      return ex;
    }
    if (!slot.circuit.canAttempt(now)) {
      return { account: a.name, reason: "circuit_open", untilMs: slot.circuit.reopensAt() };
    }
    if (this.#supports !== undefined && !this.#supports(a, modelId, now)) {
      return { account: a.name, reason: "not_serving" };
    }
    return undefined;
  }

  /**
   * Ranks the accounts of `req.providerIds` for one attempt: eligibility
   * gates (every exclusion recorded), the quota-fair score, priority tiers
   * and fair rotation among near-ties. Advances the fairness rotor.
   */
  decide(req: RouteRequest): RoutingDecision {
    const now = this.#clock();
    const exclusions: Exclusion[] = [];
    const items: Candidate[] = [];
    const est = req.estTokens ?? 0;
    for (const slot of this.#slots) {
      const a = slot.account;
      if (!req.providerIds.has(a.provider.id)) continue;
      const why = this.#gate(slot, req.modelId, now, req.attempted);
      if (why !== undefined) {
        exclusions.push(why);
        continue;
      }
      slot.windows.fill(now, this.#usage);
      const components = scoreAccount({
        usage: this.#usage,
        weight: a.weight,
        inFlight: slot.inFlight,
        reservedTokens: slot.reservedTokens,
        estTokens: est,
        unhealthy: slot.circuit.isUnhealthy,
        spendOffsetMicros: slot.offsets,
        capacities: slot.capacities,
      }, this.#scorer);
      if (this.#pinned !== undefined) {
        components.score += this.#pinned.penalty * this.#pinned.count(a.name);
      }
      if (this.#scorer.hardCap && components.overCap) {
        exclusions.push({ account: a.name, reason: "hard_cap" });
        continue;
      }
      items.push({
        account: a,
        name: a.name,
        ord: slot.ord,
        providerId: a.provider.id,
        priority: a.provider.priority,
        score: components.score,
        components,
      });
    }
    const candidates = rankCandidates(items, {
      options: this.#scorer,
      rotor: this.#rotor,
      facts: {
        modelId: req.modelId,
        providerId: req.requestedProviderId,
        protocol: req.protocol,
        clientProtocol: req.clientProtocol,
      },
      random: this.#random,
    });
    return {
      decidedAt: now,
      modelId: req.modelId,
      requestedProviderId: req.requestedProviderId,
      protocol: req.protocol,
      clientProtocol: req.clientProtocol,
      strategy: "quota_fair",
      candidates,
      exclusions,
      chosen: candidates[0]?.name,
    };
  }

  /**
   * The eligible accounts of `providerIds` for `modelId`, best first (the
   * contract the data plane used before `decide`). Exclusions are appended
   * to `exclusions` when given.
   */
  order(
    providerIds: ReadonlySet<string>,
    modelId: string,
    exclusions?: Exclusion[],
  ): AccountRuntime[] {
    const d = this.decide({ providerIds, modelId });
    exclusions?.push(...d.exclusions);
    return d.candidates.map((c) => c.account);
  }

  /**
   * Each account of `providerIds` and why it could not serve `modelId` now
   * (undefined when eligible): the gates of {@linkcode decide} without
   * scoring or moving the rotation (`/api/stats/routing/eligibility`).
   */
  eligibility(
    providerIds: ReadonlySet<string>,
    modelId: string,
  ): { account: string; providerId: string; exclusion?: Exclusion }[] {
    const now = this.#clock();
    return this.#slots.filter((s) => providerIds.has(s.account.provider.id)).map((s) => ({
      account: s.account.name,
      providerId: s.account.provider.id,
      exclusion: this.#gate(s, modelId, now),
    }));
  }

  /** Whether some account of `providerId` could serve `modelId` now (for `/v1/models`). */
  canServe(providerId: string, modelId: string, options: { healthyOnly?: boolean } = {}): boolean {
    const now = this.#clock();
    for (const slot of this.#byProvider.get(providerId) ?? []) {
      if (this.#gate(slot, modelId, now) !== undefined) continue;
      if (options.healthyOnly && slot.circuit.isUnhealthy) continue;
      return true;
    }
    return false;
  }

  /**
   * `expose_mode = "intersection"` (spec 03 §2): whether every visible
   * account serves `modelId`, and there is at least one. Visible means
   * eligible apart from the model itself: enabled, with a key, not backed off
   * or circuit-broken as a whole. `providerId` narrows it to one provider's
   * accounts; undefined looks at the whole pool (collapsed model lists).
   */
  servedByEvery(providerId: string | undefined, modelId: string): boolean {
    const now = this.#clock();
    const slots = providerId === undefined ? this.#slots : this.#byProvider.get(providerId) ?? [];
    let visible = 0;
    for (const slot of slots) {
      const ex = this.#gate(slot, modelId, now);
      if (ex === undefined) {
        visible++;
        continue;
      }
      // Visible, but without this model: the intersection fails.
      if (ex.reason === "not_serving" || ex.reason === "model_unavailable") return false;
    }
    return visible > 0;
  }

  /**
   * Applies a failed attempt: the backoff (persisted), the circuit (auth,
   * transport, timeout and 5xx only) and the account's last error.
   */
  recordFailure(account: string, failure: Failure, modelId?: string): void {
    // Neither says anything about the account.
    if (failure.class === "client_error" || failure.class === "pool_timeout") return;
    const now = this.#clock();
    const entry = this.backoffs.record(account, failure, modelId);
    // A new streak is a change of state; its later failures are not.
    const type = entry?.modelId === undefined && entry?.consecutiveFailures === 1
      ? eventOfReason(entry.reason)
      : undefined;
    if (type !== undefined) {
      this.#emit(account, type, now, {
        reason: entry!.reason,
        status_code: entry!.statusCode ?? null,
        error_class: entry!.errorClass ?? null,
        until: entry!.untilMs === undefined ? null : new Date(entry!.untilMs).toISOString(),
      });
    }
    const slot = this.#slot(account);
    if (CIRCUIT_CLASSES.has(failure.class)) {
      const before = slot.circuit.state;
      slot.circuit.recordFailure(now);
      if (before === "closed" && slot.circuit.state === "open") {
        const reopens = slot.circuit.reopensAt();
        this.#emit(account, "circuit_open", now, {
          consecutive_failures: slot.circuit.consecutiveFailures,
          error_class: failure.errorClass,
          status_code: failure.statusCode ?? null,
          probe_at: reopens === undefined ? null : new Date(reopens).toISOString(),
        });
      }
    }
    slot.lastError = {
      at: now,
      class: failure.class,
      errorClass: failure.errorClass,
      statusCode: failure.statusCode,
    };
  }

  /**
   * Rests an account (or one of its models): the handler's original call.
   * Prefer passing `failure`; without it one is rebuilt from `reason`.
   */
  coolDown(account: string, options: CoolDownOptions): void {
    const failure = options.failure ?? legacyFailure(options);
    this.recordFailure(account, failure, options.modelId);
  }

  /** A success clears the account's temporary backoffs (never an auth failure) and closes its circuit. */
  clearOnSuccess(account: string, modelId: string): void {
    const cleared = this.backoffs.clearOnSuccess(account, modelId);
    const circuit = this.#byName.get(account)?.circuit;
    const wasOpen = circuit !== undefined && circuit.state !== "closed";
    circuit?.recordSuccess();
    if (cleared.length === 0 && !wasOpen) return;
    const now = this.#clock();
    if (wasOpen) this.#emit(account, "circuit_closed", now, { by: "success", model: modelId });
    if (cleared.length > 0) {
      this.#emit(account, "recovered", now, {
        by: "success",
        cleared: cleared.map((e) => e.reason),
        failures: Math.max(...cleared.map((e) => e.consecutiveFailures)),
        since: new Date(Math.min(...cleared.map((e) => e.firstFailureAt))).toISOString(),
      });
    }
  }

  /** The operator changed the account's credential (or a re-probe accepted it): lift its auth backoff. */
  credentialChanged(account: string): void {
    const lifted = this.backoffs.clearAuth(account);
    const circuit = this.#byName.get(account)?.circuit;
    const wasOpen = circuit !== undefined && circuit.state !== "closed";
    circuit?.recordSuccess();
    const now = this.#clock();
    if (wasOpen) this.#emit(account, "circuit_closed", now, { by: "credential" });
    if (lifted !== undefined) {
      this.#emit(account, "recovered", now, {
        by: "credential",
        cleared: [lifted.reason],
        since: new Date(lifted.firstFailureAt).toISOString(),
      });
    }
  }

  /**
   * The soonest time (ms from now) an account of `providerIds` that is
   * resting on a timed backoff or an open circuit frees up, for `Retry-After`.
   * Undefined when none is (all disabled, unauthenticated, or none exist).
   */
  soonestRetryMs(providerIds: ReadonlySet<string>, modelId?: string): number | undefined {
    const now = this.#clock();
    let best: number | undefined;
    const consider = (until: number | undefined) => {
      if (until === undefined) return;
      const wait = Math.max(0, until - now);
      if (best === undefined || wait < best) best = wait;
    };
    for (const slot of this.#slots) {
      const a = slot.account;
      if (!providerIds.has(a.provider.id) || !a.enabled || !hasCredentials(a)) continue;
      const b = this.backoffs.blocking(a.name, modelId ?? "", now);
      if (b !== undefined) {
        consider(b.untilMs);
        continue;
      }
      if (!slot.circuit.canAttempt(now)) consider(slot.circuit.reopensAt());
    }
    return best;
  }

  #lease(slot: SlotState, estTokens: number, probe: boolean): () => void {
    slot.inFlight++;
    slot.reservedTokens += estTokens;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      slot.inFlight = Math.max(0, slot.inFlight - 1);
      slot.reservedTokens = Math.max(0, slot.reservedTokens - estTokens);
      // An attempt that ends without a success or failure record frees the probe slot.
      if (probe) slot.circuit.releaseProbe();
    };
  }

  /**
   * Counts a request in flight on an account (released by the returned
   * function) and takes the circuit's half-open probe slot when it is due.
   * Never refuses; use {@linkcode tryAcquire} to respect a taken probe slot.
   */
  acquire(account: string, options: { estTokens?: number } = {}): () => void {
    const slot = this.#slot(account);
    const admission = slot.circuit.tryAcquire(this.#clock());
    return this.#lease(slot, options.estTokens ?? 0, admission === "probe");
  }

  /** Like {@linkcode acquire}, but undefined when the circuit rejects the attempt (probe already out). */
  tryAcquire(account: string, options: { estTokens?: number } = {}): (() => void) | undefined {
    const slot = this.#slot(account);
    const admission = slot.circuit.tryAcquire(this.#clock());
    if (admission === "rejected") return undefined;
    return this.#lease(slot, options.estTokens ?? 0, admission === "probe");
  }

  /** Requests in flight on an account. */
  inFlight(account: string): number {
    return (this.#byName.get(account) ?? this.#orphans.get(account))?.inFlight ?? 0;
  }

  /** Counts a finalized request in the account's quota windows. */
  observe(account: string, observation: UsageObservation): void {
    this.windows.observe(account, observation);
  }

  /** Every account's routing state, for `/api/accounts/status` and the dashboard. */
  status(now: number = this.#clock()): AccountStatus[] {
    return this.accounts.map((a) => {
      const slot = this.#slot(a.name);
      return accountStatus(a, {
        now,
        inFlight: slot.inFlight,
        reservedTokens: slot.reservedTokens,
        capacities: {
          requests: this.#scorer.requestCapacity,
          tokens: this.#scorer.tokenCapacity,
        },
        circuit: slot.circuit.snapshot(now),
        backoffs: this.backoffs.list(now, a.name),
        unresolved: this.backoffs.unresolved(a.name, now),
        usage: this.windows.usage(a.name, now),
        caps: this.#scorer.spendCapMicros,
        offsets: slot.offsets,
        lastError: slot.lastError,
      });
    });
  }
}
