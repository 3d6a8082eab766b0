import assert from "node:assert/strict";
import { FairnessRotor, rankCandidates, rotorKey } from "./rank.ts";
import type { RankContext, RankItem } from "./rank.ts";
import { DEFAULT_SCORER_OPTIONS } from "./scorer.ts";
import { seededRandom } from "../accounts/_fixtures.ts";

function ctx(
  patch: Partial<RankContext["options"]> = {},
  rotor = new FairnessRotor(),
): RankContext {
  return {
    options: { ...DEFAULT_SCORER_OPTIONS, ...patch },
    rotor,
    facts: { modelId: "m", protocol: "openai", clientProtocol: "openai" },
    random: seededRandom(7),
  };
}

function item(name: string, score: number, priority = 0): RankItem {
  // Single-letter and short names: their code points give name order.
  const ord = [...name].reduce((n, ch) => n * 256 + ch.charCodeAt(0), 0);
  return { name, ord, score, priority };
}

const names = (items: RankItem[]) => items.map((i) => i.name);

Deno.test("rankCandidates() puts higher priority tiers first and keeps every tier", () => {
  const out = rankCandidates(
    [item("low", 0, 0), item("high-b", 0.9, 5), item("high-a", 0.5, 5), item("mid", 0, 1)],
    ctx({ fairnessMode: "off", nearTieEpsilon: 0 }),
  );
  assert.deepEqual(names(out), ["high-a", "high-b", "mid", "low"]);
});

Deno.test("rankCandidates() rotates the fairness band round-robin, in name order", () => {
  const c = ctx();
  const firsts: string[] = [];
  for (let i = 0; i < 6; i++) {
    const out = rankCandidates(
      [item("c", 0.02), item("a", 0.01), item("b", 0.05), item("z", 0.9)],
      c,
    );
    firsts.push(out[0].name);
    // The far account stays last: it is outside the band.
    assert.equal(out[3].name, "z");
    assert.equal(out[3].inBand, undefined);
  }
  assert.deepEqual(firsts, ["a", "b", "c", "a", "b", "c"]);
});

Deno.test("rankCandidates() keeps score order beyond the band and with fairness off", () => {
  const out = rankCandidates(
    [item("b", 0.3), item("a", 0.1), item("c", 0.6)],
    ctx({ fairnessMode: "off", nearTieEpsilon: 0 }),
  );
  assert.deepEqual(names(out), ["a", "b", "c"]);
});

Deno.test("rankCandidates() shuffles the band in random mode, deterministic per seed", () => {
  const seen = new Set<string>();
  const c = ctx({ fairnessMode: "random" });
  for (let i = 0; i < 50; i++) {
    seen.add(rankCandidates([item("a", 0), item("b", 0), item("c", 0)], c)[0].name);
  }
  assert.deepEqual([...seen].sort(), ["a", "b", "c"]);
});

Deno.test("rankCandidates() keys the rotor per tier and model", () => {
  const rotor = new FairnessRotor();
  const c = ctx({}, rotor);
  rankCandidates([item("a", 0, 1), item("b", 0, 1), item("x", 0, 0), item("y", 0, 0)], c);
  assert.equal(rotor.size, 2);
  const other = { ...c, facts: { ...c.facts, modelId: "n" } };
  rankCandidates([item("a", 0), item("b", 0)], other);
  assert.equal(rotor.size, 3);
});

Deno.test("rotorKey() follows fairness_scope", () => {
  const facts = { modelId: "m", providerId: "p", protocol: "openai", clientProtocol: "openai" };
  assert.equal(
    rotorKey({ ...facts, tier: 2 }, "provider_model_protocol"),
    "provider=p|model=m|protocol=openai|tier=2|client_protocol=openai",
  );
  assert.equal(
    rotorKey({ ...facts, tier: 2 }, "provider_model"),
    "provider=p|model=m|tier=2|client_protocol=openai",
  );
  assert.equal(
    rotorKey({ modelId: "m", tier: 0 }, "priority_model_protocol"),
    "model=m|protocol=*|tier=0|client_protocol=*",
  );
});

Deno.test("FairnessRotor forgets the least recently used keys past its cap", () => {
  const rotor = new FairnessRotor(4);
  rotor.next("a");
  rotor.next("a");
  rotor.next("b");
  rotor.next("c");
  rotor.next("d");
  rotor.next("a"); // a is now the most recent
  rotor.next("e"); // over the cap: keeps the 3 most recent (d, a, e)
  assert.equal(rotor.size, 3);
  assert.equal(rotor.next("a"), 3);
  assert.equal(rotor.next("b"), 0, "b was forgotten");
});
