/**
 * `[model_capabilities."<model>"]`, global and per provider: values the
 * routing gate and the transcoder read are checked here (a wrong status or
 * effort is an error naming the key); sub-tables this version does not read
 * load with a warning that says so.
 */
import type { KeyedIssue } from "./_key_path.ts";
import { parseCapability } from "../routing/capabilities.ts";
import { asTable } from "./_table.ts";

/** Errors and warnings for every capability table of a raw config. */
export function capabilityFindings(root: Record<string, unknown>): {
  errors: KeyedIssue[];
  warnings: KeyedIssue[];
} {
  const errors: KeyedIssue[] = [];
  const warnings: KeyedIssue[] = [];
  const visit = (tables: unknown, at: string[]) => {
    for (const [model, raw] of Object.entries(asTable(tables) ?? {})) {
      const t = asTable(raw);
      if (t === undefined) continue; // the schema reports a non-table
      const found = parseCapability(t);
      for (const e of found.errors) {
        errors.push({ segments: [...at, model, ...e.segments], message: e.message });
      }
      for (const w of found.inert) {
        warnings.push({ segments: [...at, model, ...w.segments], message: w.message });
      }
    }
  };
  visit(root.model_capabilities, ["model_capabilities"]);
  for (const [id, p] of Object.entries(asTable(root.providers) ?? {})) {
    visit(asTable(p)?.model_capabilities, ["providers", id, "model_capabilities"]);
  }
  return { errors, warnings };
}
