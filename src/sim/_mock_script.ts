import type { MockFault, RecordedRequest } from "./_mock_types.ts";

/** The key that matches every request (including ones without a key). */
export const ANY_KEY = "*";

interface QueuedFault {
  readonly fault: MockFault;
  remaining: number;
}

function isCompletion(request: RecordedRequest): boolean {
  return request.route === "chat_completions" || request.route === "messages";
}

/**
 * Per-key fault queues. The head of a key's queue applies to matching requests
 * until its `times` run out, then the next fault applies, then normal behaviour.
 * A key's own queue is consulted before the `"*"` queue.
 */
export class FaultScript {
  readonly #queues = new Map<string, QueuedFault[]>();

  /** Replaces the queue for `key` (`"*"` = any key) with `faults`, in order. */
  set(key: string, ...faults: MockFault[]): this {
    this.#queues.delete(key);
    return this.push(key, ...faults);
  }

  /** Appends `faults` to the queue for `key`. */
  push(key: string, ...faults: MockFault[]): this {
    const queue = this.#queues.get(key) ?? [];
    for (const fault of faults) {
      if (fault.times !== undefined && fault.times <= 0) continue;
      queue.push({ fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
    }
    if (queue.length > 0) this.#queues.set(key, queue);
    return this;
  }

  /** Removes every fault for `key`. */
  delete(key: string): boolean {
    return this.#queues.delete(key);
  }

  clear(): void {
    this.#queues.clear();
  }

  /** Faults still queued for `key`, head first. */
  pending(key: string): MockFault[] {
    return (this.#queues.get(key) ?? []).map((entry) => entry.fault);
  }

  /** Picks (and uses up one application of) the fault for this request, if any. */
  take(request: RecordedRequest): MockFault | undefined {
    const own = request.key === undefined ? undefined : this.#takeFrom(request.key, request);
    return own ?? this.#takeFrom(ANY_KEY, request);
  }

  #takeFrom(key: string, request: RecordedRequest): MockFault | undefined {
    const queue = this.#queues.get(key);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    const matches = head.fault.match ? head.fault.match(request) : isCompletion(request);
    if (!matches) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) {
      queue.shift();
      if (queue.length === 0) this.#queues.delete(key);
    }
    return head.fault;
  }
}
