/**
 * A fast 64-bit string hash as 16 hex characters, for keys that only need to
 * be stable and rarely collide (conversation keys), not to resist an attacker.
 * Two 32-bit FNV-1a lanes with different primes and offsets over the UTF-16
 * code units, each finished with a MurmurHash3-style avalanche. On Deno it is
 * several times cheaper than node:crypto's createHash for the short inputs of
 * the request path, and it does not change between releases.
 */
export function hash64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return hex8(avalanche(a ^ text.length)) + hex8(avalanche(b));
}

function avalanche(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}
