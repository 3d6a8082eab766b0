import type { ModelCatalog } from "./catalog.ts";

/** One `/v1/models` entry in the OpenAI list shape. */
export interface ModelListItem {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

/**
 * The `/v1/models` body: one `model/provider` id per pair, or one id per
 * model when `collapse` is set (spec 03 §2).
 */
export function listModels(
  catalog: ModelCatalog,
  options: { collapse: boolean },
): { object: "list"; data: ModelListItem[] } {
  const data: ModelListItem[] = [];
  if (options.collapse) {
    const owners = new Map<string, string[]>();
    for (const e of catalog.all()) {
      const list = owners.get(e.modelId) ?? [];
      list.push(e.providerId);
      owners.set(e.modelId, list);
    }
    for (const [id, providers] of [...owners].sort(([a], [b]) => a.localeCompare(b))) {
      data.push({ id, object: "model", created: 0, owned_by: providers.sort().join(",") });
    }
  } else {
    const seen = new Set<string>();
    for (const e of catalog.all()) {
      const id = `${e.modelId}/${e.providerId}`;
      if (seen.has(id)) continue;
      seen.add(id);
      data.push({ id, object: "model", created: 0, owned_by: e.providerId });
    }
    data.sort((a, b) => a.id.localeCompare(b.id));
  }
  return { object: "list", data };
}
