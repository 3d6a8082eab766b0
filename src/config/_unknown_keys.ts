/**
 * Finds keys the schema does not know. They are warnings, not errors: an old
 * or newer config keeps working, and check-config still points at typos.
 */

import { z } from "zod";
import type { PathSegment } from "./_key_path.ts";

/** Paths of every key in `data` that `schema` does not declare. */
export function findUnknownKeys(schema: z.ZodType, data: unknown): PathSegment[][] {
  const found: PathSegment[][] = [];
  walk(schema, data, [], found);
  return found;
}

function walk(schema: z.ZodType, data: unknown, at: PathSegment[], found: PathSegment[][]): void {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject) {
    if (!isTable(data)) return;
    const shape = s.shape as Record<string, z.ZodType>;
    for (const [key, value] of Object.entries(data)) {
      const child = Object.hasOwn(shape, key) ? shape[key] : undefined;
      if (child) walk(child, value, [...at, key], found);
      else found.push([...at, key]);
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

function isTable(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date);
}
