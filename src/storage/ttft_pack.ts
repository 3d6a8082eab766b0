/**
 * The TTFT histograms of the latency cache (`ttft_days`, migration 0008):
 * one day's histogram per (provider, model) is kept in one row, its
 * non-empty buckets packed into a BLOB, instead of one row per bucket (about
 * 30 times fewer rows for a period to read).
 *
 * A pack is a run of 16-byte entries in ascending bucket order, big-endian:
 * the bucket's lower bound in ms (u32, one of `TTFT_BOUNDS`), how many values
 * it holds (u32) and their sum in ms (i64; `first_byte_ms` is an INTEGER, so
 * sums are whole). Big-endian because SQL can build the same bytes
 * (`unhex(printf('%08x%08x%016x', ...))`), which migration 0008 does to
 * convert the per-bucket rows of 0005.
 */
import { TTFT_BOUNDS, ttftBucketIndex } from "./ttft_buckets.ts";

const ENTRY_BYTES = 16;
const TWO_32 = 4_294_967_296;

/** Counts and sums of ms per bucket, indexed like `TTFT_BOUNDS`. */
export class TtftHistogram {
  readonly n: Float64Array = new Float64Array(TTFT_BOUNDS.length);
  readonly ms: Float64Array = new Float64Array(TTFT_BOUNDS.length);

  /** Counts one TTFT of `value` ms. */
  add(value: number): void {
    const i = ttftBucketIndex(value);
    this.n[i] += 1;
    this.ms[i] += value;
  }

  /** The non-empty buckets as a pack. */
  pack(): Uint8Array {
    let used = 0;
    for (let i = 0; i < this.n.length; i++) if (this.n[i] !== 0) used++;
    const out = new Uint8Array(used * ENTRY_BYTES);
    const view = new DataView(out.buffer);
    let o = 0;
    for (let i = 0; i < this.n.length; i++) {
      if (this.n[i] === 0) continue;
      const sum = this.ms[i];
      const high = Math.floor(sum / TWO_32);
      view.setUint32(o, TTFT_BOUNDS[i]);
      view.setUint32(o + 4, this.n[i]);
      view.setInt32(o + 8, high);
      view.setUint32(o + 12, sum - high * TWO_32);
      o += ENTRY_BYTES;
    }
    return out;
  }
}

/** Adds every bucket of `pack` to each histogram of `into`. */
export function addPack(pack: Uint8Array, into: readonly TtftHistogram[]): void {
  const view = new DataView(pack.buffer, pack.byteOffset, pack.byteLength);
  const end = pack.byteLength - (pack.byteLength % ENTRY_BYTES);
  for (let o = 0; o < end; o += ENTRY_BYTES) {
    const i = ttftBucketIndex(view.getUint32(o));
    const n = view.getUint32(o + 4);
    const ms = view.getInt32(o + 8) * TWO_32 + view.getUint32(o + 12);
    for (const h of into) (h.n[i] += n), (h.ms[i] += ms);
  }
}

/** The entries of `pack` as `[lo, n, ms]`, in its order (tests and tools). */
export function unpack(pack: Uint8Array): [number, number, number][] {
  const h = new TtftHistogram();
  addPack(pack, [h]);
  const out: [number, number, number][] = [];
  for (let i = 0; i < h.n.length; i++) {
    if (h.n[i] !== 0) out.push([TTFT_BOUNDS[i], h.n[i], h.ms[i]]);
  }
  return out;
}
