/**
 * OpenCode's provider block for EggPool (spec 07 §3.1, 10-clients.md):
 * `@ai-sdk/openai-compatible` at `/v1` with the local key, and every model
 * with its limits, which OpenCode needs to size `max_tokens` and compaction,
 * and, for a model `[model_capabilities]` says thinks, its reasoning efforts.
 */
import type { ModelListItem } from "../../catalog/listing.ts";
import type { SetupInput } from "./configsetup.ts";

/** One model entry of the block. */
export interface OpencodeModel {
  name?: string;
  limit?: { context: number; output: number; input?: number };
  /** Set when the model states it thinks; one variant per effort it takes. */
  reasoning?: true;
  variants?: Record<string, { reasoningEffort: string }>;
}

/** The `provider.eggpool` value of opencode.json. */
export function opencodeBlock(input: SetupInput): Record<string, unknown> {
  const models: Record<string, OpencodeModel> = {};
  for (const item of [...input.models.items].sort((a, b) => a.id < b.id ? -1 : 1)) {
    models[item.id] = modelEntry(item);
  }
  return {
    npm: "@ai-sdk/openai-compatible",
    name: "EggPool",
    options: { baseURL: `${input.origin}/v1`, apiKey: input.key },
    models,
  };
}

function modelEntry(item: ModelListItem): OpencodeModel {
  const out: OpencodeModel = {};
  const base = item.eggpool?.base_model_id;
  const provider = item.eggpool?.provider_id;
  const display = item.name ?? base ?? item.id;
  // A suffixed id shows as "<display>/<provider>" so the provider stays visible in the menu.
  const name = provider !== undefined && !display.endsWith(`/${provider}`)
    ? `${display}/${provider}`
    : display;
  if (name !== item.id) out.name = name;
  const l = item.eggpool?.limits;
  // OpenCode wants both numbers when it has a limit at all.
  if (l?.context !== undefined && l.output !== undefined) {
    out.limit = { context: l.context, output: l.output };
    if (l.input !== undefined) out.limit.input = l.input;
  }
  const thinking = item.eggpool?.capabilities?.thinking;
  if (thinking?.status === "supported") {
    out.reasoning = true;
    out.variants = {};
    for (const effort of thinking.supported_efforts ?? ["low", "medium", "high"]) {
      out.variants[effort] = { reasoningEffort: effort };
    }
  }
  return out;
}
