/**
 * What EggPool knows about a model besides its usage: the catalog rows of
 * `provider_models` (who lists it, over which protocol and why, its limits,
 * capabilities and the upstream's remaining metadata). The Models page's Info
 * pill summarises it; the `/models/{id}` detail page shows it whole. No
 * outside metadata source is consulted (the spec's model-info sidecar is not
 * built, 09-decisions), so benchmarks are never invented here.
 */
import type { Db } from "../storage/db.ts";

/** One provider's catalog row for a model. */
export interface CatalogRow {
  providerId: string;
  displayName?: string;
  /** undefined = unresolved: hidden for this provider (spec 03 §1.3). */
  protocol?: string;
  protocolSource?: string;
  /** `upstream` (models endpoint) or `static_config`. */
  source: string;
  maxContextTokens?: number;
  maxInputTokens?: number;
  maxOutputTokens?: number;
  capabilities: Record<string, unknown>;
  metadata: Record<string, unknown>;
  firstSeenAt: number;
  lastSeenAt: number;
}

/** The Info pill's summary of a model's catalog rows. */
export interface InfoSummary {
  level: "complete" | "sparse" | "none";
  /** `context 200,000 · output 8,192 · tools, vision`; empty when nothing is known. */
  text: string;
  /** Providers whose rows disagree on a limit (the detail page lists the values). */
  conflicts: string[];
}

const ROWS = `SELECT provider_id, model_id, display_name, protocol, protocol_source, source,
  max_context_tokens, max_input_tokens, max_output_tokens, capabilities_json, metadata_json,
  first_seen_at, last_seen_at FROM provider_models`;

function optNum(v: unknown): number | undefined {
  return v === null || v === undefined ? undefined : Number(v);
}

function optStr(v: unknown): string | undefined {
  return v === null || v === undefined || v === "" ? undefined : String(v);
}

function object(json: unknown): Record<string, unknown> {
  try {
    const v = JSON.parse(String(json ?? "{}"));
    return v !== null && typeof v === "object" && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

function row(r: Record<string, unknown>): CatalogRow {
  return {
    providerId: String(r.provider_id),
    displayName: optStr(r.display_name),
    protocol: optStr(r.protocol),
    protocolSource: optStr(r.protocol_source),
    source: String(r.source),
    maxContextTokens: optNum(r.max_context_tokens),
    maxInputTokens: optNum(r.max_input_tokens),
    maxOutputTokens: optNum(r.max_output_tokens),
    capabilities: object(r.capabilities_json),
    metadata: object(r.metadata_json),
    firstSeenAt: Number(r.first_seen_at),
    lastSeenAt: Number(r.last_seen_at),
  };
}

/** Every model's catalog rows, by model id (one read of the catalog table). */
export function catalogRows(db: Db): Map<string, CatalogRow[]> {
  const out = new Map<string, CatalogRow[]>();
  for (const r of db.stmt(`${ROWS} ORDER BY model_id, provider_id`).all()) {
    const id = String(r.model_id);
    (out.get(id) ?? out.set(id, []).get(id)!).push(row(r));
  }
  return out;
}

/** One model's catalog rows, by provider. */
export function catalogRowsOf(db: Db, modelId: string): CatalogRow[] {
  return db.stmt(`${ROWS} WHERE model_id = ? ORDER BY provider_id`).all(modelId).map(row);
}

/** Capability flags set to true (`tools`, `vision`, …), sorted. */
export function capabilityNames(rows: readonly CatalogRow[]): string[] {
  const names = new Set<string>();
  for (const r of rows) {
    for (const [k, v] of Object.entries(r.capabilities)) if (v === true) names.add(k);
  }
  return [...names].sort();
}

function agreed(rows: readonly CatalogRow[], pick: (r: CatalogRow) => number | undefined) {
  const values = [...new Set(rows.map(pick).filter((v): v is number => v !== undefined))];
  return { value: values.length === 0 ? undefined : Math.min(...values), split: values.length > 1 };
}

/** The Info pill: complete with a context window and an output limit, sparse with either. */
export function infoSummary(rows: readonly CatalogRow[]): InfoSummary {
  const ctx = agreed(rows, (r) => r.maxContextTokens);
  const out = agreed(rows, (r) => r.maxOutputTokens);
  const caps = capabilityNames(rows);
  const parts: string[] = [];
  const n = (v: number) => v.toLocaleString("en-US");
  if (ctx.value !== undefined) parts.push(`context ${n(ctx.value)}`);
  if (out.value !== undefined) parts.push(`output ${n(out.value)}`);
  if (caps.length > 0) parts.push(caps.join(", "));
  const conflicts = [ctx.split ? "context window" : "", out.split ? "output limit" : ""]
    .filter((c) => c !== "");
  const level = ctx.value !== undefined && out.value !== undefined
    ? "complete"
    : parts.length > 0
    ? "sparse"
    : "none";
  return { level, text: parts.join(" · "), conflicts };
}
