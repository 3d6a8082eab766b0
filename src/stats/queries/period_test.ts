import assert from "node:assert/strict";
import { autoBucket, bucketLabel, parseInstant, parsePeriod, PeriodError } from "./period.ts";

const NOW = Date.UTC(2026, 5, 15, 12, 0, 0);

Deno.test("parseInstant: date-only is midnight UTC, naive is UTC, offsets are applied", () => {
  assert.equal(parseInstant("2026-06-01"), Date.UTC(2026, 5, 1));
  assert.equal(parseInstant("2026-06-01T10:30"), Date.UTC(2026, 5, 1, 10, 30));
  assert.equal(parseInstant("2026-06-01 10:30:15.5"), Date.UTC(2026, 5, 1, 10, 30, 15, 500));
  assert.equal(parseInstant("2026-06-01T10:30:00+02:00"), Date.UTC(2026, 5, 1, 8, 30));
  assert.equal(parseInstant("2026-06-01T10:30:00-0130"), Date.UTC(2026, 5, 1, 12, 0));
  for (const bad of ["2026-06-31", "2026-06-01T24:00", "2026-06-01Z", "06/01/2026", "now"]) {
    assert.equal(parseInstant(bad), undefined, bad);
  }
});

Deno.test("parsePeriod: labels, bounds, and refusals that name the parameter", () => {
  assert.deepEqual(parsePeriod(undefined, NOW), {
    label: "24h",
    start: NOW - 86_400_000,
    end: NOW + 1,
  });
  assert.deepEqual(parsePeriod("1h", NOW), { label: "1h", start: NOW - 3_600_000, end: NOW + 1 });
  assert.deepEqual(parsePeriod("2026-06-01..2026-06-02", NOW), {
    label: "custom",
    start: Date.UTC(2026, 5, 1),
    end: Date.UTC(2026, 5, 2),
  });
  assert.deepEqual(parsePeriod("2026-06-14T12:00:00Z", NOW), {
    label: "since",
    start: Date.UTC(2026, 5, 14, 12),
    end: NOW + 1,
  });
  for (const bad of ["90m", "2026-06-02..2026-06-01", "2026-06-01..", "2030-01-01"]) {
    assert.throws(
      () => parsePeriod(bad, NOW),
      (e: unknown) => e instanceof PeriodError && e.message.includes("'period'"),
      bad,
    );
  }
});

Deno.test("buckets: auto is day only for long periods; labels are UTC", () => {
  assert.equal(autoBucket(parsePeriod("7d", NOW)), "hour");
  assert.equal(autoBucket(parsePeriod("30d", NOW)), "day");
  assert.equal(bucketLabel(Date.UTC(2026, 0, 2, 3)), "2026-01-02 03:00:00");
});
