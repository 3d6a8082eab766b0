/**
 * Limits on values that came from a client or an upstream before they reach
 * a stats row, an operational event or an error message. One 5 MB model id
 * once made a 315 MB database and a 210 MB dashboard page (issue #12), so
 * everything stored is cut here, with a marker that says so.
 */

/** Longest model id, provider id, session hash or request id kept. */
export const MAX_ID_CHARS = 256;
/** Longest error text kept in a row or an event. */
export const MAX_TEXT_CHARS = 1_000;
/** Longest serialized details of one operational event. */
export const MAX_EVENT_DETAILS_CHARS = 4_000;

/**
 * Upstream token counts above this are implausible for one request: the
 * largest context windows offered are around 10 million tokens. At this
 * ceiling a rollup counter needs 90 million such requests to pass 2^53, so
 * sums stay exact by construction.
 */
export const MAX_TOKENS_PER_REQUEST = 100_000_000;

/**
 * `value` when it is at most `max` characters; otherwise its first `max`
 * characters and a marker with the number of characters cut, so a reader
 * knows the stored text is not the whole value.
 */
export function boundText(value: string, max: number): string {
  if (value.length <= max) return value;
  return `${value.slice(0, max)}…[cut ${value.length - max} chars]`;
}

/** Distinct dropped field names kept per request (the count of all drops is kept whole). */
export const MAX_DROPPED_NAMES = 8;
/** Longest dropped field name kept: a client's own unknown keys become names. */
export const MAX_DROPPED_NAME_CHARS = 64;
