/**
 * Prompt-cache affinity on top of the quota-fair decision (issue #5): a
 * conversation's later turns go to the account that served its first one
 * while that account is eligible; it moves only when the account cannot
 * serve it (an account-specific failure, a backoff, the model gone) and is
 * then re-pinned to the account that does. New conversations take the
 * scorer's choice, which already counts live pins (`pinPenalty` in the pool).
 */
import type { AccountRuntime } from "./account.ts";
import type { Candidate, RoutingDecision } from "./decision.ts";
import type { PinBook } from "./pins.ts";

/** The account an attempt goes to, and whether it is the conversation's pinned one. */
export interface AffinityChoice {
  account: AccountRuntime;
  /** The conversation stayed on (or was just placed on) its pinned account. */
  pinned: boolean;
}

/** What the previous attempt of this request ran into, if anything. */
export interface PriorFailure {
  account: string;
  /** `Failure.class` (`rate_limited`, `quota_exhausted`, `overloaded`, …). */
  failureClass: string;
}

function target(c: Candidate, modelId: string) {
  return { account: c.name, providerId: c.providerId, modelId };
}

/** Chooses among a decision's candidates with the conversation's pin in mind. */
export class AffinityRouter {
  readonly pins: PinBook;

  constructor(pins: PinBook) {
    this.pins = pins;
  }

  /**
   * The account for one attempt. `key` is the conversation key hash
   * (undefined: plain routing). The first attempt of a turn counts the turn.
   */
  choose(
    key: string | undefined,
    decision: RoutingDecision,
    options: { firstAttempt: boolean; prior?: PriorFailure },
  ): AffinityChoice | undefined {
    const best = decision.candidates[0];
    if (key === undefined) return best && { account: best.account, pinned: false };
    const modelId = decision.modelId;
    const pin = this.pins.get(key);
    if (pin === undefined) {
      if (best === undefined) return undefined;
      this.pins.pin(key, target(best, modelId));
      return { account: best.account, pinned: true };
    }
    const held = decision.candidates.find((c) => c.name === pin.account);
    if (held !== undefined) {
      if (options.firstAttempt) this.pins.touch(pin, modelId);
      return { account: held.account, pinned: true };
    }
    if (best === undefined) return undefined;
    const excluded = decision.exclusions.find((e) => e.account === pin.account);
    const failed = options.prior?.account === pin.account ? options.prior.failureClass : undefined;
    if (excluded === undefined && failed === undefined) {
      // The pinned account is not one this model can use at all (another
      // provider's model in the same conversation): route plainly, keep the pin.
      return { account: best.account, pinned: false };
    }
    this.pins.move(pin, target(best, modelId), failed ?? excluded?.reason ?? "not_serving");
    if (options.firstAttempt) this.pins.touch(pin, modelId);
    return { account: best.account, pinned: true };
  }
}
