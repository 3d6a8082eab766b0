/**
 * Per-account prompt-cache share since startup (issue #5): how much of the
 * input each account served from cache, counted as requests finish. Kept in
 * memory so `/api/accounts/status` needs no query.
 */
import type { RequestOutcome, RequestStart, UsageSink } from "./types.ts";

/** Input tokens of one account: fresh, read from cache, written to cache. */
export interface CacheCounts {
  inputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

/** Cache counts per account. */
export class CacheTally {
  readonly #byAccount = new Map<string, CacheCounts>();

  /** Adds one finished request's tokens. */
  add(account: string, o: CacheCounts): void {
    const c = this.#byAccount.get(account) ??
      { inputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
    c.inputTokens += o.inputTokens;
    c.cacheReadTokens += o.cacheReadTokens;
    c.cacheWriteTokens += o.cacheWriteTokens;
    this.#byAccount.set(account, c);
  }

  /** cache read / (fresh input + cache read + cache write); undefined before any input. */
  share(account: string): number | undefined {
    const c = this.#byAccount.get(account);
    if (c === undefined) return undefined;
    const total = c.inputTokens + c.cacheReadTokens + c.cacheWriteTokens;
    return total === 0 ? undefined : c.cacheReadTokens / total;
  }

  counts(account: string): CacheCounts | undefined {
    const c = this.#byAccount.get(account);
    return c && { ...c };
  }
}

/** Wraps `sink` so every finished request with an account is added to `tally`. */
export function withCacheTally(sink: UsageSink, tally: CacheTally): UsageSink {
  return {
    begin(start: RequestStart): void {
      sink.begin(start);
    },
    finish(requestId: string, outcome: RequestOutcome): void {
      sink.finish(requestId, outcome);
      if (outcome.accountName !== undefined) tally.add(outcome.accountName, outcome);
    },
  };
}
