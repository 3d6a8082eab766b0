/**
 * Request ids: UUIDv7 (RFC 9562), so ids sort by creation time. The requests
 * table has a unique index on them; time-ordered ids append at its right edge
 * instead of landing on a random page, which keeps inserts cheap as the table
 * grows past the page cache (an SD card on a Pi pays for every random read).
 *
 * Layout: 48-bit Unix milliseconds, version 7, a 12-bit sequence that orders
 * ids minted in the same millisecond (method 1 of RFC 9562 §6.2), the variant,
 * then 62 random bits drawn once per batch of ids.
 */

const HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);
/** Random bytes are drawn in blocks; 8 bytes per id. */
const RANDOM_BLOCK_IDS = 256;

let lastMs = -1;
let sequence = 0;
const randomBlock = new Uint8Array(RANDOM_BLOCK_IDS * 8);
let randomUsed = RANDOM_BLOCK_IDS;

function hex2(n: number): string {
  return HEX[n & 0xff];
}

/** A new UUIDv7, monotonic within this process even if the wall clock steps back. */
export function newRequestId(nowMs: number = Date.now()): string {
  let ms = Math.max(Math.floor(nowMs), lastMs);
  if (ms === lastMs) {
    sequence++;
    if (sequence > 0xfff) {
      // 4096 ids in one millisecond: borrow the next millisecond, keeping order.
      ms++;
      sequence = 0;
    }
  } else {
    sequence = 0;
  }
  lastMs = ms;
  if (randomUsed === RANDOM_BLOCK_IDS) {
    crypto.getRandomValues(randomBlock);
    randomUsed = 0;
  }
  const r = randomUsed++ * 8;
  const b = randomBlock;
  const high = Math.floor(ms / 0x1_0000_0000);
  const low = ms >>> 0;
  return hex2(high >>> 8) + hex2(high) + hex2(low >>> 24) + hex2(low >>> 16) + "-" +
    hex2(low >>> 8) + hex2(low) + "-" +
    hex2(0x70 | (sequence >>> 8)) + hex2(sequence) + "-" +
    hex2(0x80 | (b[r] & 0x3f)) + hex2(b[r + 1]) + "-" +
    hex2(b[r + 2]) + hex2(b[r + 3]) + hex2(b[r + 4]) + hex2(b[r + 5]) + hex2(b[r + 6]) +
    hex2(b[r + 7]);
}
