/**
 * Claude Code's settings for EggPool (10-clients.md): it reads `env` from
 * `~/.claude/settings.json`; the base URL has no `/v1` (Claude Code adds it),
 * the key travels as `ANTHROPIC_AUTH_TOKEN` (a Bearer header), and the model
 * variables name models EggPool serves: Anthropic-protocol ones first (no
 * translation), any model when there are none and the transcoder is on.
 */
import type { SetupFlags, SetupInput } from "./configsetup.ts";
import { providersOf } from "./_model_listing.ts";

/** The `env` entries to merge into Claude Code's settings. */
export function claudeCodeEnv(input: SetupInput, flags: SetupFlags): Record<string, string> {
  const { providers, transcoder } = input.loaded.config;
  const all = input.models.items.map((m) => m.id).sort();
  const native = input.models.items
    .filter((m) => providersOf(m).some((p) => providers[p]?.protocols.includes("anthropic")))
    .map((m) => m.id)
    .sort();
  const ids = native.length > 0 || !transcoder.enabled ? native : all;
  const find = (word: string) => ids.find((id) => id.toLowerCase().includes(word));
  const main = flags.model ?? find("sonnet") ?? find("opus") ?? ids[0];
  const small = flags.smallModel ?? find("haiku") ?? main;
  const env: Record<string, string> = {
    ANTHROPIC_BASE_URL: input.origin,
    ANTHROPIC_AUTH_TOKEN: input.key,
    // Without it Claude Code also calls home (HEAD /api/hello, telemetry).
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  };
  if (main !== undefined) env.ANTHROPIC_MODEL = main;
  if (small !== undefined) {
    env.ANTHROPIC_SMALL_FAST_MODEL = small;
    env.ANTHROPIC_DEFAULT_HAIKU_MODEL = small;
  }
  const sonnet = find("sonnet");
  const opus = find("opus");
  if (sonnet !== undefined) env.ANTHROPIC_DEFAULT_SONNET_MODEL = sonnet;
  if (opus !== undefined) env.ANTHROPIC_DEFAULT_OPUS_MODEL = opus;
  return env;
}
