/**
 * Writes what migration 0007 keeps about protocol reach: the side row of a
 * request that came in on `/v1/responses` or lost fields in translation
 * (`request_transcodes`), and the day rollups `/api/stats/transcoding` reads
 * (`transcode_days`, `transcode_field_days`). A native request writes no side
 * row; its rollup contribution is summed in memory with the rest of its batch
 * and costs one upsert per distinct (day, surface, upstream) key per batch.
 */
import type { Db } from "./db.ts";
import type { Protocol, Surface } from "../core/protocol.ts";
import { NATIVE_SURFACE } from "../core/protocol.ts";
import { MAX_DROPPED_NAME_CHARS, MAX_DROPPED_NAMES } from "../stats/bounds.ts";

const DAY_MS = 86_400_000;

/** What a written request row says about its reach, as stored. */
export interface TranscodeValues {
  startedAt: number;
  clientProtocol: Protocol;
  clientSurface?: Surface;
  /** Undefined while pending or when no upstream was asked: such rows are not counted. */
  upstreamProtocol?: Protocol;
  status: string;
  droppedFields?: number;
  droppedNames?: readonly string[];
}

interface DayCounters {
  day: number;
  surface: Surface;
  upstream: Protocol;
  n: number;
  successful: number;
  errors: number;
  clientErrors: number;
  cancelled: number;
  withDrops: number;
  dropped: number;
}

const UPSERT_SIDE = `INSERT INTO request_transcodes (request_id, client_surface, dropped_fields,
  dropped_names) VALUES (?, ?, ?, ?)
  ON CONFLICT (request_id) DO UPDATE SET client_surface = excluded.client_surface,
  dropped_fields = excluded.dropped_fields, dropped_names = excluded.dropped_names`;

const UPSERT_DAY = `INSERT INTO transcode_days VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT DO UPDATE SET n = n + excluded.n, successful = successful + excluded.successful,
  errors = errors + excluded.errors, client_errors = client_errors + excluded.client_errors,
  cancelled = cancelled + excluded.cancelled, with_drops = with_drops + excluded.with_drops,
  dropped = dropped + excluded.dropped`;

const UPSERT_FIELD = `INSERT INTO transcode_field_days VALUES (?, ?, ?, ?, ?)
  ON CONFLICT DO UPDATE SET requests = requests + excluded.requests`;

/** The surface a row records: the one given, else its protocol's own endpoint. */
function surfaceOf(v: TranscodeValues): Surface {
  return v.clientSurface ?? NATIVE_SURFACE[v.clientProtocol];
}

/** The dropped names as stored: at most MAX_DROPPED_NAMES of at most MAX_DROPPED_NAME_CHARS. */
function namesOf(v: TranscodeValues): readonly string[] {
  const names = v.droppedNames ?? [];
  return names.length <= MAX_DROPPED_NAMES && names.every((n) => n.length <= MAX_DROPPED_NAME_CHARS)
    ? names
    : names.slice(0, MAX_DROPPED_NAMES).map((n) => n.slice(0, MAX_DROPPED_NAME_CHARS));
}

/**
 * Writes the side row of request row `rowId` when it has something to say
 * (a surface other than its protocol's own, or dropped fields); a pending
 * row's is replaced when the request finishes.
 */
export function writeTranscodeRow(db: Db, rowId: number, v: TranscodeValues): void {
  const surface = surfaceOf(v);
  const dropped = v.droppedFields ?? 0;
  if (surface === NATIVE_SURFACE[v.clientProtocol] && dropped === 0) return;
  const names = namesOf(v);
  db.stmt(UPSERT_SIDE).run(
    rowId,
    surface,
    dropped,
    names.length > 0 ? JSON.stringify(names) : null,
  );
}

/** The surface a request row's side row recorded, if it has one. */
export function storedSurface(db: Db, rowId: number): Surface | undefined {
  const row = db.stmt("SELECT client_surface FROM request_transcodes WHERE request_id = ?").get(
    rowId,
  );
  return row === undefined ? undefined : row.client_surface as Surface;
}

/** Day-rollup contributions of a batch of written rows, summed before one upsert per key. */
export class TranscodeDays {
  readonly #days = new Map<string, DayCounters>();
  readonly #fields = new Map<string, [number, Surface, Protocol, string, number]>();

  /** Adds a written row; rows that reached no upstream are not counted. */
  add(v: TranscodeValues): void {
    const upstream = v.upstreamProtocol;
    if (upstream === undefined) return;
    const day = Math.floor(v.startedAt / DAY_MS) * DAY_MS;
    const surface = surfaceOf(v);
    const key = `${day}\u0000${surface}\u0000${upstream}`;
    let c = this.#days.get(key);
    if (c === undefined) {
      c = {
        day,
        surface,
        upstream,
        n: 0,
        successful: 0,
        errors: 0,
        clientErrors: 0,
        cancelled: 0,
        withDrops: 0,
        dropped: 0,
      };
      this.#days.set(key, c);
    }
    const s = v.status;
    const dropped = v.droppedFields ?? 0;
    c.n++;
    if (s === "completed") c.successful++;
    else if (s === "error" || s === "interrupted") c.errors++;
    else if (s === "client_error") c.clientErrors++;
    else if (s === "cancelled") c.cancelled++;
    if (dropped > 0) c.withDrops++;
    c.dropped += dropped;
    for (const name of namesOf(v)) {
      const fk = `${key}\u0000${name}`;
      const f = this.#fields.get(fk);
      if (f === undefined) this.#fields.set(fk, [day, surface, upstream, name, 1]);
      else f[4]++;
    }
  }

  /** Upserts what was added and forgets it. */
  write(db: Db): void {
    if (this.#days.size > 0) {
      const stmt = db.stmt(UPSERT_DAY);
      for (const c of this.#days.values()) {
        stmt.run(
          c.day,
          c.surface,
          c.upstream,
          c.n,
          c.successful,
          c.errors,
          c.clientErrors,
          c.cancelled,
          c.withDrops,
          c.dropped,
        );
      }
    }
    if (this.#fields.size > 0) {
      const stmt = db.stmt(UPSERT_FIELD);
      for (const f of this.#fields.values()) stmt.run(...f);
    }
    this.#days.clear();
    this.#fields.clear();
  }
}

/**
 * Records a written request row's reach: its side row now, its rollup
 * contribution into `batch`, or straight into the tables without one.
 */
export function noteTranscode(
  db: Db,
  rowId: number,
  v: TranscodeValues,
  batch?: TranscodeDays,
): void {
  writeTranscodeRow(db, rowId, v);
  if (v.upstreamProtocol === undefined) return;
  if (batch !== undefined) {
    batch.add(v);
    return;
  }
  const one = new TranscodeDays();
  one.add(v);
  one.write(db);
}
