/**
 * Finds keys the schema does not know. They are errors (spec 02: the Python
 * EggPool's schema is strict): a misspelt key would otherwise silently leave
 * its setting at the default. Keys Python accepted and this version ignores
 * are declared in the schema, so they never reach this walker.
 */

import { z } from "zod";
import type { PathSegment } from "./_key_path.ts";
import { isTable } from "./_table.ts";

/** A key the schema does not declare, with the keys that were allowed in its place. */
export interface UnknownKey {
  segments: PathSegment[];
  known: string[];
}

/** Every key in `data` that `schema` does not declare. */
export function findUnknownKeys(schema: z.ZodType, data: unknown): UnknownKey[] {
  const found: UnknownKey[] = [];
  walk(schema, data, [], found);
  return found;
}

/**
 * The known key closest to `key` when it is a plausible typo (a few edits,
 * or the same word with an `s` more or less), else undefined.
 */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const limit = Math.max(1, Math.min(3, Math.floor(key.length / 3)));
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return bestDistance <= limit ? best : undefined;
}

/** Edits (insert, delete, replace, swap of neighbours) between `a` and `b`. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

function walk(schema: z.ZodType, data: unknown, at: PathSegment[], found: UnknownKey[]): void {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) {
    if (!isTable(data)) return;
    const shape = s.shape as Record<string, z.ZodType>;
    for (const [key, value] of Object.entries(data)) {
      const child = Object.hasOwn(shape, key) ? shape[key] : undefined;
      if (child) walk(child, value, [...at, key], found);
      else found.push({ segments: [...at, key], known: Object.keys(shape) });
    }
  } else if (s instanceof z.ZodArray) {
    if (!Array.isArray(data)) return;
    data.forEach((item, i) => walk(s.element as z.ZodType, item, [...at, i], found));
  } else if (s instanceof z.ZodRecord) {
    if (!isTable(data)) return;
    for (const [key, value] of Object.entries(data)) {
      walk(s.valueType as z.ZodType, value, [...at, key], found);
    }
  }
}

/** Looks through optional/default/pipe wrappers to the schema that checks the value. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  for (let guard = 0; guard < 16; guard++) {
    if (
      s instanceof z.ZodOptional || s instanceof z.ZodNullable ||
      s instanceof z.ZodDefault || s instanceof z.ZodPrefault
    ) {
      s = s.unwrap() as z.ZodType;
    } else if (s instanceof z.ZodPipe) {
      s = s.in as z.ZodType;
    } else {
      break;
    }
  }
  return s;
}
