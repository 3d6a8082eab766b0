/**
 * SQL for `session_pins` (issue #5): a write-behind store for the in-memory
 * pin book (changes are buffered per key and written in one transaction by
 * {@linkcode BufferedPinStore.flush}, never on the request path) and the
 * startup read that restores the live pins.
 */
import type { Db } from "./db.ts";
import type { Pin, PinStore } from "../accounts/pins.ts";

const UPSERT = `INSERT INTO session_pins (
  session_key_hash, account_id, provider_id, model_id, created_at, last_used_at, turn_count
)
SELECT ?, id, provider_id, ?, ?, ?, ? FROM accounts WHERE name = ?
ON CONFLICT (session_key_hash) DO UPDATE SET
  account_id = excluded.account_id,
  provider_id = excluded.provider_id,
  model_id = excluded.model_id,
  last_used_at = excluded.last_used_at,
  turn_count = excluded.turn_count`;

const DELETE = `DELETE FROM session_pins WHERE session_key_hash = ?`;

/** A {@linkcode PinStore} that buffers the latest state per key until {@linkcode flush}. */
export interface BufferedPinStore extends PinStore {
  /** Writes buffered changes in one transaction; returns how many rows it touched. */
  flush(): number;
  /** Changes waiting for the next flush. */
  readonly pending: number;
}

/** The write-behind store over `session_pins`. */
export function createPinStore(db: Db): BufferedPinStore {
  // The value is a snapshot (the book mutates its pins in place), or null for a delete.
  const dirty = new Map<string, Pin | null>();
  return {
    save(pin: Pin): void {
      dirty.set(pin.key, { ...pin });
    },
    remove(key: string): void {
      dirty.set(key, null);
    },
    flush(): number {
      if (dirty.size === 0 || !db.isOpen) return 0;
      const batch = [...dirty];
      dirty.clear();
      try {
        writeBatch(batch);
      } catch (error) {
        // Locked or full: keep the changes for the next flush, under any newer ones.
        for (const [key, pin] of batch) if (!dirty.has(key)) dirty.set(key, pin);
        throw error;
      }
      return batch.length;
    },
    get pending() {
      return dirty.size;
    },
  };

  function writeBatch(batch: Array<[string, Pin | null]>): void {
    db.transaction(() => {
      for (const [key, pin] of batch) {
        if (pin === null) db.stmt(DELETE).run(key);
        else {
          db.stmt(UPSERT).run(
            key,
            pin.modelId,
            Math.round(pin.createdAt),
            Math.round(pin.lastUsedAt),
            pin.turns,
            pin.account,
          );
        }
      }
    });
  }
}

/**
 * Startup hydration: deletes pins idle since before `idleCutoff` (and pins of
 * disabled accounts), then returns the rest.
 */
export function loadPins(db: Db, idleCutoff: number): Pin[] {
  return db.transaction(() => {
    db.stmt(
      `DELETE FROM session_pins WHERE last_used_at < ?
         OR account_id IN (SELECT id FROM accounts WHERE enabled = 0)`,
    ).run(Math.round(idleCutoff));
    const rows = db.stmt(
      `SELECT p.session_key_hash, a.name, p.provider_id, p.model_id, p.created_at,
              p.last_used_at, p.turn_count
       FROM session_pins p JOIN accounts a ON a.id = p.account_id`,
    ).all() as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      key: String(r.session_key_hash),
      account: String(r.name),
      providerId: String(r.provider_id),
      modelId: String(r.model_id),
      createdAt: Number(r.created_at),
      lastUsedAt: Number(r.last_used_at),
      turns: Number(r.turn_count),
    }));
  });
}
