/**
 * Compares two strings in time that depends only on `expected`'s length: every
 * character of `expected` is visited and differences are OR-ed together, never
 * returned early, so the timing cannot show where two values first differ.
 * Meant for ASCII secrets (keys, MACs) of a known format.
 */
export function sameText(given: string, expected: string): boolean {
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    // Past the end of a shorter `given`, charCodeAt is NaN and `| 0` makes it 0.
    diff |= (given.charCodeAt(i) | 0) ^ expected.charCodeAt(i);
  }
  return diff === 0;
}
