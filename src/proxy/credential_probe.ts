/**
 * Telling a bad key from a refused request (issue #12): some providers answer
 * 401 when the key is fine but may not use the requested model. Parking the
 * account until its key changes would take it out for good, so a 401 is
 * checked against the models endpoint with the same key, which needs nothing
 * but a valid credential. Parked accounts are probed again now and then, and
 * come back when their key is accepted again.
 */
import type { AccountRuntime } from "../accounts/account.ts";
import type { FetchListOptions, FetchListResult } from "../catalog/store.ts";
import type { ResolvedProviderConfig } from "../config/schema.ts";
import type { AccountPool } from "../accounts/pool.ts";

/** What the models endpoint said about an account's credential. */
export type ProbeVerdict =
  /** It answered 2xx: the key works. */
  | "valid"
  /** It answered 401 or 403: the key is bad. */
  | "rejected"
  /** No usable answer (network error, other status, endpoint disabled). */
  | "unknown";

/** Time allowed for one probe: the client of the failed request waits for it. */
const PROBE_TIMEOUT_MS = 10_000;
/** A verdict is reused this long, so a burst of 401s makes one probe, not hundreds. */
const VERDICT_TTL_MS = 30_000;

/** Options for {@linkcode CredentialProbe}. */
export interface CredentialProbeOptions {
  /** Each provider's models endpoint (`models_endpoint`, or the legacy keys). */
  endpoint(providerId: string): ResolvedProviderConfig["models_endpoint"] | undefined;
  fetchList(account: AccountRuntime, options: FetchListOptions): Promise<FetchListResult>;
  clock: () => number;
}

/** Probes account credentials against the models endpoint, with a short-lived cache. */
export class CredentialProbe {
  readonly #o: CredentialProbeOptions;
  readonly #recent = new Map<string, { at: number; verdict: Promise<ProbeVerdict> }>();

  constructor(options: CredentialProbeOptions) {
    this.#o = options;
  }

  /** The account's credential as the models endpoint sees it (cached for 30 s). */
  check(account: AccountRuntime): Promise<ProbeVerdict> {
    const now = this.#o.clock();
    const hit = this.#recent.get(account.name);
    if (hit !== undefined && now - hit.at < VERDICT_TTL_MS) return hit.verdict;
    const verdict = this.#probe(account);
    this.#recent.set(account.name, { at: now, verdict });
    return verdict;
  }

  /** Probes now, bypassing the cache (the periodic re-probe of parked accounts). */
  recheck(account: AccountRuntime): Promise<ProbeVerdict> {
    this.#recent.delete(account.name);
    return this.check(account);
  }

  async #probe(account: AccountRuntime): Promise<ProbeVerdict> {
    const e = this.#o.endpoint(account.provider.id);
    if (e === undefined || e.method === "DISABLED") return "unknown";
    try {
      const r = await this.#o.fetchList(account, {
        method: e.method,
        path: e.path,
        query: e.query,
        body: e.body,
        timeoutMs: PROBE_TIMEOUT_MS,
        clock: this.#o.clock,
      });
      if (r.statusCode !== undefined && r.statusCode >= 200 && r.statusCode < 300) return "valid";
      if (r.statusCode === 401 || r.statusCode === 403) return "rejected";
      return "unknown";
    } catch {
      return "unknown";
    }
  }
}

/**
 * Every `intervalMs`, probes the enabled accounts parked for a failed
 * credential and lifts the park of those whose key works again (a provider
 * outage that answered 401, a key re-enabled upstream). Returns the stop
 * function.
 */
export function scheduleReprobe(
  probe: CredentialProbe,
  pool: AccountPool,
  intervalMs: number,
  log: (message: string) => void,
): () => void {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      for (const entry of pool.backoffs.list()) {
        if (entry.reason !== "authentication_failed") continue;
        const account = pool.accounts.find((a) => a.name === entry.accountName);
        if (account === undefined || !account.enabled) continue;
        if (await probe.recheck(account) !== "valid") continue;
        pool.credentialChanged(account.name);
        log(`Account '${account.name}': its key is accepted again; it serves requests again`);
      }
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), intervalMs);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}
