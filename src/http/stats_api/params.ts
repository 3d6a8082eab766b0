/**
 * Query parameters of the stats API, each read or refused with a message
 * naming it (a 400 in our own `{error, param}` shape, never a framework's).
 */
import type { Db } from "../../storage/db.ts";
import { parsePeriod, PeriodError } from "../../stats/queries/period.ts";
import type { StatsPeriod } from "../../stats/queries/period.ts";
import { accountIdByName } from "../../stats/queries/usage.ts";

/** A refused parameter: 400, or 404 for a filter naming something that does not exist. */
export class ParamError extends Error {
  constructor(readonly param: string, message: string, readonly status: 400 | 404 = 400) {
    super(message);
  }
}

/** Longest filter value accepted (ids are cut at 200 characters when stored). */
const MAX_TEXT = 256;

function show(raw: string): string {
  return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
}

/** Typed access to one request's query string. */
export class StatsQuery {
  constructor(readonly url: URL, readonly now: number) {}

  /** The raw value; an empty value counts as absent. */
  raw(name: string): string | undefined {
    const v = this.url.searchParams.get(name);
    return v === null || v === "" ? undefined : v;
  }

  /** `period` (spec 01 §7). */
  period(): StatsPeriod {
    try {
      return parsePeriod(this.raw("period"), this.now);
    } catch (error) {
      if (error instanceof PeriodError) throw new ParamError("period", error.message);
      throw error;
    }
  }

  /** A whole number in `[min, max]`. */
  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const n = /^\d{1,9}$/.test(raw) ? Number(raw) : NaN;
    if (n >= min && n <= max) return n;
    throw new ParamError(
      name,
      `Invalid '${name}' ${show(raw)}: expected a whole number from ${min} to ${max}`,
    );
  }

  /** `true/false/1/0`. */
  bool(name: string, fallback: boolean): boolean {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const v = raw.toLowerCase();
    if (v === "true" || v === "1") return true;
    if (v === "false" || v === "0") return false;
    throw new ParamError(name, `Invalid '${name}' ${show(raw)}: expected true or false`);
  }

  /** One of `values`. */
  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if ((values as readonly string[]).includes(raw)) return raw as T;
    throw new ParamError(
      name,
      `Invalid '${name}' ${show(raw)}: expected one of ${values.join(", ")}`,
    );
  }

  /** A free filter value (exact match), or undefined. */
  text(name: string): string | undefined {
    const raw = this.raw(name);
    if (raw !== undefined && raw.length > MAX_TEXT) {
      throw new ParamError(name, `Invalid '${name}': longer than ${MAX_TEXT} characters`);
    }
    return raw;
  }

  /** The `account` filter as an account id; 404 when no account has that name. */
  account(db: Db, name = "account"): { name?: string; id?: number } {
    const value = this.text(name);
    if (value === undefined) return {};
    const id = accountIdByName(db, value);
    if (id === undefined) {
      throw new ParamError(name, `Unknown account ${show(value)} in '${name}'`, 404);
    }
    return { name: value, id };
  }
}
