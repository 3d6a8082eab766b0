/**
 * Ordering scored candidates (spec 03 §6): priority tiers highest first, each
 * tier by score, and a fairness band of near-ties at the head of each tier
 * rotated round-robin (or shuffled) so equal accounts share the load.
 */
import type { FairnessScope, ScorerOptions } from "./scorer.ts";

/** Rotor keys kept before the least recently used is forgotten (spec 00 §4). */
export const ROTOR_MAX_KEYS = 4096;

/** One candidate as the ranker sees it. */
export interface RankItem {
  name: string;
  /** Position in name order: the tie-break and the round-robin order (cheaper than names). */
  ord: number;
  /** `routing_priority` of the account's provider. */
  priority: number;
  score: number;
  /** Set by {@linkcode rankCandidates}: the item sat in its tier's fairness band. */
  inBand?: boolean;
}

/** Per-key round-robin counters with an LRU cap; reset on restart (spec 03 §6). */
export class FairnessRotor {
  readonly #turns = new Map<string, { turn: number; usedAt: number }>();
  readonly #maxKeys: number;
  #tick = 0;

  constructor(maxKeys: number = ROTOR_MAX_KEYS) {
    this.#maxKeys = maxKeys;
  }

  /** The key's current turn, then advances it. */
  next(key: string): number {
    const entry = this.#turns.get(key);
    if (entry !== undefined) {
      entry.usedAt = ++this.#tick;
      return entry.turn++;
    }
    this.#turns.set(key, { turn: 1, usedAt: ++this.#tick });
    if (this.#turns.size > this.#maxKeys) this.#evict();
    return 0;
  }

  /** Drops the least recently used keys down to 3/4 of the cap (amortizes the scan). */
  #evict(): void {
    const keep = Math.floor(this.#maxKeys * 0.75);
    const byAge = [...this.#turns].sort((a, b) => a[1].usedAt - b[1].usedAt);
    for (let i = 0; i < byAge.length - keep; i++) this.#turns.delete(byAge[i][0]);
  }

  get size(): number {
    return this.#turns.size;
  }
}

/** Request facts that key the rotor. */
export interface RotorFacts {
  modelId: string;
  /** Provider the client named with `model/provider`, if any. */
  providerId?: string;
  /** Upstream protocol of the request. */
  protocol?: string;
  clientProtocol?: string;
}

/** The rotor key for a tier: `provider=…|model=…|protocol=…|tier=…|client_protocol=…`. */
export function rotorKey(facts: RotorFacts & { tier: number }, scope: FairnessScope): string {
  const tier = facts.tier;
  const provider = scope === "priority_model_protocol"
    ? ""
    : `provider=${facts.providerId ?? "*"}|`;
  const protocol = scope === "provider_model" ? "" : `|protocol=${facts.protocol ?? "*"}`;
  return `${provider}model=${facts.modelId}${protocol}|tier=${tier}|client_protocol=${
    facts.clientProtocol ?? "*"
  }`;
}

/** What {@linkcode rankCandidates} needs besides the items. */
export interface RankContext {
  options: Pick<
    ScorerOptions,
    "fairnessMode" | "fairnessEpsilon" | "nearTieEpsilon" | "fairnessScope"
  >;
  rotor: FairnessRotor;
  facts: RotorFacts;
  /** Uniform in [0, 1); injected so tests are deterministic. */
  random: () => number;
}

// Comparators use numbers only: string comparisons dominated the cost of a decision.
// `a.score - b.score` is NaN for two infinite scores; `||` then falls through to `ord`.
function byScore(a: RankItem, b: RankItem): number {
  return a.score - b.score || a.ord - b.ord;
}

function byOrd(a: RankItem, b: RankItem): number {
  return a.ord - b.ord;
}

function isInOrdOrder(items: readonly RankItem[]): boolean {
  for (let i = 1; i < items.length; i++) if (items[i - 1].ord > items[i].ord) return false;
  return true;
}

/**
 * Ranks one tier into `out`: the fairness band (every account within
 * epsilon of the best score) first, rotated or shuffled, then the rest by
 * score. The band is found by filtering, not sorting: on a busy pool it is
 * usually most of the tier, and it only needs name order.
 */
function rankTier<T extends RankItem>(tier: T[], ctx: RankContext, out: T[]): void {
  const { options } = ctx;
  const mode = options.fairnessMode;
  const epsilon = mode === "off" ? options.nearTieEpsilon : options.fairnessEpsilon;
  if (tier.length === 1 || (mode === "off" && epsilon <= 0)) {
    for (const t of tier.sort(byScore)) out.push(t);
    return;
  }
  let best = Number.POSITIVE_INFINITY;
  for (const t of tier) if (t.score < best) best = t.score;
  const band: T[] = [];
  const rest: T[] = [];
  for (const t of tier) {
    if (t.score === best || t.score - best <= epsilon) {
      t.inBand = true;
      band.push(t);
    } else rest.push(t);
  }
  if (band.length > 1 && mode === "round_robin") {
    if (!isInOrdOrder(band)) band.sort(byOrd);
    const n = band.length;
    const turn =
      ctx.rotor.next(rotorKey({ ...ctx.facts, tier: band[0].priority }, options.fairnessScope)) % n;
    for (let i = 0; i < n; i++) out.push(band[(turn + i) % n]);
  } else {
    // `random`, or `off` with randomized near ties: Fisher–Yates over the band.
    for (let i = band.length - 1; i > 0; i--) {
      const j = Math.floor(ctx.random() * (i + 1));
      const t = band[i];
      band[i] = band[j];
      band[j] = t;
    }
    for (const t of band) out.push(t);
  }
  for (const t of rest.sort(byScore)) out.push(t);
}

/**
 * Orders candidates: tiers by priority (highest first, all tiers kept so
 * failover falls through), each tier's fairness band first, the rest by
 * score. Items arriving in `ord` order skip a sort. Returns a new array;
 * band members get `inBand` set.
 */
export function rankCandidates<T extends RankItem>(items: readonly T[], ctx: RankContext): T[] {
  const out: T[] = [];
  if (items.length === 0) return out;
  const priorities: number[] = [];
  for (const t of items) if (!priorities.includes(t.priority)) priorities.push(t.priority);
  if (priorities.length === 1) {
    rankTier(items.slice(), ctx, out);
    return out;
  }
  priorities.sort((a, b) => b - a);
  for (const p of priorities) rankTier(items.filter((t) => t.priority === p), ctx, out);
  return out;
}
