/**
 * The accounts EggPool can send to, their providers, and their in-memory
 * health (cooldowns, in-flight counts). Pure: no I/O. The quota-aware scorer
 * (issue #4) replaces `order()`; callers depend only on its contract: the
 * eligible accounts for a model and protocol, best first.
 */
import type { Protocol } from "../core/protocol.ts";
import type { UpstreamAuth } from "../proxy/upstream.ts";

/** A provider as the data plane needs it, with env references resolved. */
export interface ProviderRuntime {
  id: string;
  baseUrl: string;
  protocols: readonly Protocol[];
  /** Endpoint path per protocol, relative to `baseUrl`. */
  paths: Readonly<Record<Protocol, string>>;
  /** Per-model path overrides: model id → protocol → path. */
  modelPaths: ReadonlyMap<string, Partial<Record<Protocol, string>>>;
  auth: UpstreamAuth;
  headers: ReadonlyArray<readonly [string, string]>;
  priority: number;
  /** Deadline for the response head, in ms. */
  headersTimeoutMs: number;
  /** Longest silence allowed inside a streamed body, in ms. */
  idleTimeoutMs: number;
}

/** One upstream account. */
export interface AccountRuntime {
  name: string;
  provider: ProviderRuntime;
  enabled: boolean;
  weight: number;
  /** The resolved key; never logged or stored. */
  key: string | undefined;
  /** Outbound proxy client, when the account has one. */
  client?: Deno.HttpClient;
}

interface Cooldown {
  /** Undefined = until the credential changes (authentication failures). */
  untilMs: number | undefined;
  reason: string;
}

/** Why an account was not eligible (recorded with routing decisions). */
export interface Exclusion {
  account: string;
  reason: "disabled" | "no_key" | "cooling_down" | "auth_failed" | "model_unavailable";
  untilMs?: number;
}

/** Options for {@linkcode AccountPool}. */
export interface AccountPoolOptions {
  clock: () => number;
}

/** Accounts and their in-memory health. */
export class AccountPool {
  readonly accounts: readonly AccountRuntime[];
  readonly #clock: () => number;
  readonly #accountCooldown = new Map<string, Cooldown>();
  /** Keyed `account\u0000model`. */
  readonly #modelCooldown = new Map<string, Cooldown>();
  readonly #inFlight = new Map<string, number>();
  readonly #rotation = new Map<string, number>();

  constructor(accounts: readonly AccountRuntime[], options: AccountPoolOptions) {
    this.accounts = accounts;
    this.#clock = options.clock;
  }

  /**
   * The eligible accounts of `providerIds` for `modelId`, best first: higher
   * `routing_priority` tiers first, rotating the start within a tier so load
   * spreads. Excluded accounts are reported to `exclusions` when given.
   */
  order(
    providerIds: ReadonlySet<string>,
    modelId: string,
    exclusions?: Exclusion[],
  ): AccountRuntime[] {
    const now = this.#clock();
    const eligible: AccountRuntime[] = [];
    for (const a of this.accounts) {
      if (!providerIds.has(a.provider.id)) continue;
      const why = this.#exclusion(a, modelId, now);
      if (why) exclusions?.push(why);
      else eligible.push(a);
    }
    eligible.sort((x, y) => y.provider.priority - x.provider.priority);
    const out: AccountRuntime[] = [];
    let i = 0;
    while (i < eligible.length) {
      let j = i;
      while (
        j < eligible.length && eligible[j].provider.priority === eligible[i].provider.priority
      ) j++;
      const tier = eligible.slice(i, j);
      const key = `${modelId}\u0000${tier[0].provider.priority}`;
      const turn = this.#rotation.get(key) ?? 0;
      this.#rotation.set(key, (turn + 1) % 1_000_000);
      for (let k = 0; k < tier.length; k++) out.push(tier[(turn + k) % tier.length]);
      i = j;
    }
    return out;
  }

  #exclusion(a: AccountRuntime, modelId: string, now: number): Exclusion | undefined {
    if (!a.enabled) return { account: a.name, reason: "disabled" };
    if (a.key === undefined && a.provider.auth.mode !== "none") {
      return { account: a.name, reason: "no_key" };
    }
    const cd = this.#active(this.#accountCooldown, a.name, now);
    if (cd) {
      return cd.untilMs === undefined
        ? { account: a.name, reason: "auth_failed" }
        : { account: a.name, reason: "cooling_down", untilMs: cd.untilMs };
    }
    const md = this.#active(this.#modelCooldown, `${a.name}\u0000${modelId}`, now);
    if (md) return { account: a.name, reason: "model_unavailable", untilMs: md.untilMs };
    return undefined;
  }

  #active(map: Map<string, Cooldown>, key: string, now: number): Cooldown | undefined {
    const cd = map.get(key);
    if (cd === undefined) return undefined;
    if (cd.untilMs !== undefined && cd.untilMs <= now) {
      map.delete(key);
      return undefined;
    }
    return cd;
  }

  /** Rests an account (or one of its models) for `cooldownMs`; undefined = until the key changes. */
  coolDown(
    account: string,
    options: { cooldownMs: number | undefined; reason: string; modelId?: string },
  ): void {
    const until = options.cooldownMs === undefined ? undefined : this.#clock() + options.cooldownMs;
    const entry = { untilMs: until, reason: options.reason };
    if (options.modelId !== undefined) {
      this.#modelCooldown.set(`${account}\u0000${options.modelId}`, entry);
    } else this.#accountCooldown.set(account, entry);
  }

  /** A success clears the account's temporary cooldowns (never an auth failure). */
  clearOnSuccess(account: string, modelId: string): void {
    const cd = this.#accountCooldown.get(account);
    if (cd && cd.untilMs !== undefined) this.#accountCooldown.delete(account);
    this.#modelCooldown.delete(`${account}\u0000${modelId}`);
  }

  /** The soonest time any of `providerIds`' cooling accounts frees up, for `Retry-After`. */
  soonestRetryMs(providerIds: ReadonlySet<string>): number | undefined {
    const now = this.#clock();
    let best: number | undefined;
    for (const a of this.accounts) {
      if (!providerIds.has(a.provider.id)) continue;
      const cd = this.#active(this.#accountCooldown, a.name, now);
      if (cd?.untilMs === undefined) continue;
      const wait = cd.untilMs - now;
      if (best === undefined || wait < best) best = wait;
    }
    return best;
  }

  /** Counts a request in flight on an account (released by the returned function). */
  acquire(account: string): () => void {
    this.#inFlight.set(account, (this.#inFlight.get(account) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight.set(account, (this.#inFlight.get(account) ?? 1) - 1);
    };
  }

  /** Requests in flight per account. */
  inFlight(account: string): number {
    return this.#inFlight.get(account) ?? 0;
  }
}
