/**
 * The `period` query parameter of the stats API (spec 01 §7): a named window
 * (`1h`, `24h`, `7d`, `30d`), a range `START..END`, or one ISO datetime (since
 * then, until now). Dates without a time mean 00:00 and times without an
 * offset mean UTC. Unlike the spec's "anything unparseable becomes 24h", a
 * value we cannot read is refused, so a typo is not answered with other data.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Length of each named period. */
export const NAMED_PERIOD_MS: Readonly<Record<string, number>> = {
  "1h": HOUR_MS,
  "24h": DAY_MS,
  "7d": 7 * DAY_MS,
  "30d": 30 * DAY_MS,
};

/** The default when `period` is absent. */
export const DEFAULT_PERIOD = "24h";

/** A resolved period: requests with `start <= started_at < end` (epoch ms). */
export interface StatsPeriod {
  /** `1h | 24h | 7d | 30d`, `custom` for a range, `since` for one datetime. */
  label: string;
  start: number;
  end: number;
}

// 2026-12-03, 2026-12-03T10:00, 2026-12-03 10:00:00.123Z, 2026-12-03T10:00:00+02:00
const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Epoch ms of an ISO date or datetime (naive = UTC), or undefined when it is not one. */
export function parseInstant(raw: string): number | undefined {
  const m = DATETIME.exec(raw.trim());
  if (m === null) return undefined;
  const [, y, mo, d, h = "00", mi = "00", s = "00", frac = "", zone] = m;
  if (zone !== undefined && m[4] === undefined) return undefined;
  const ms = frac === "" ? "" : `.${frac.slice(0, 3).padEnd(3, "0")}`;
  const off = zone === undefined || zone.toUpperCase() === "Z"
    ? "Z"
    : zone.includes(":")
    ? zone
    : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const text = `${y}-${mo}-${d}T${h}:${mi}:${s}${ms}${off}`;
  const t = Date.parse(text);
  if (!Number.isFinite(t)) return undefined;
  // Date.parse rolls 2026-02-30 over to March; a calendar date must round-trip.
  const check = new Date(Date.parse(`${y}-${mo}-${d}T00:00:00Z`));
  if (
    check.getUTCFullYear() !== Number(y) || check.getUTCMonth() + 1 !== Number(mo) ||
    check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59
  ) {
    return undefined;
  }
  return t;
}

/** Why a `period` value was refused; the text names the parameter. */
export class PeriodError extends Error {}

function refuse(raw: string, why: string): PeriodError {
  return new PeriodError(
    `Invalid 'period' ${JSON.stringify(raw.slice(0, 80))}: ${why}; expected 1h, 24h, 7d, 30d, ` +
      "START..END or one ISO datetime such as 2026-01-31T12:00:00Z",
  );
}

/** Resolves `period` against `now` (ms); throws {@linkcode PeriodError} when unreadable. */
export function parsePeriod(raw: string | undefined, now: number): StatsPeriod {
  const value = raw === undefined || raw === "" ? DEFAULT_PERIOD : raw;
  const named = Object.hasOwn(NAMED_PERIOD_MS, value) ? NAMED_PERIOD_MS[value] : undefined;
  // `end` is exclusive: +1 keeps a request started at this very millisecond.
  if (named !== undefined) return { label: value, start: now - named, end: now + 1 };
  const cut = value.indexOf("..");
  if (cut >= 0) {
    const start = parseInstant(value.slice(0, cut));
    const end = parseInstant(value.slice(cut + 2));
    if (start === undefined) throw refuse(value, "the start is not an ISO date or datetime");
    if (end === undefined) throw refuse(value, "the end is not an ISO date or datetime");
    if (end <= start) throw refuse(value, "the end must be after the start");
    return { label: "custom", start, end };
  }
  const since = parseInstant(value);
  if (since === undefined) throw refuse(value, "not a known period");
  if (since > now) throw refuse(value, "the datetime is in the future");
  return { label: "since", start: since, end: now + 1 };
}

/** Hour or day buckets. */
export type Bucket = "hour" | "day";

/** Width of a bucket in ms. */
export const BUCKET_MS: Readonly<Record<Bucket, number>> = { hour: HOUR_MS, day: DAY_MS };

/** `bucket=auto` (spec 01 §7): day for 30 days and longer, hour otherwise. */
export function autoBucket(period: StatsPeriod): Bucket {
  return period.end - period.start > 8 * DAY_MS ? "day" : "hour";
}

/** A bucket start as the spec's label, `YYYY-MM-DD HH:00:00` (UTC). */
export function bucketLabel(startMs: number): string {
  return new Date(startMs).toISOString().slice(0, 19).replace("T", " ");
}
