/** TOML tables as parsed values: the one test every config reader shares. */

/** True for a TOML table (a plain object), not an array or a date. */
export function isTable(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Date);
}

/** `v` when it is a TOML table, else undefined. */
export function asTable(v: unknown): Record<string, unknown> | undefined {
  return isTable(v) ? v : undefined;
}
