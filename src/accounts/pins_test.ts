import assert from "node:assert/strict";
import { PinBook } from "./pins.ts";
import type { Pin, PinStore } from "./pins.ts";

function book(idleMs = 1_000, maxPins?: number) {
  let now = 10_000;
  const saved: string[] = [];
  const removed: string[] = [];
  const store: PinStore = {
    save: (p: Pin) => saved.push(`${p.key}@${p.account}#${p.turns}`),
    remove: (k: string) => removed.push(k),
  };
  const pins = new PinBook({ clock: () => now, idleMs, maxPins, store });
  return { pins, saved, removed, advance: (ms: number) => (now += ms) };
}

const TARGET = { account: "a", providerId: "p", modelId: "m" };

Deno.test("PinBook pins, counts turns and live pins per account", () => {
  const { pins, saved } = book();
  const pin = pins.pin("k1", TARGET);
  pins.pin("k2", TARGET);
  pins.pin("k3", { ...TARGET, account: "b" });
  pins.touch(pin, "m2");
  assert.equal(pins.get("k1")?.turns, 2);
  assert.equal(pins.get("k1")?.modelId, "m2");
  assert.equal(pins.liveCount("a"), 2);
  assert.equal(pins.liveCount("b"), 1);
  assert.deepEqual(saved, ["k1@a#1", "k2@a#1", "k3@b#1", "k1@a#2"]);
});

Deno.test("PinBook.move() re-pins and counts the move against the account left", () => {
  const { pins } = book();
  const pin = pins.pin("k1", TARGET);
  pins.move(pin, { ...TARGET, account: "b" }, "rate_limited");
  assert.equal(pins.get("k1")?.account, "b");
  assert.equal(pins.liveCount("a"), 0);
  assert.equal(pins.liveCount("b"), 1);
  assert.deepEqual(pins.movesFrom("a"), { rate_limited: 1 });
  assert.deepEqual(pins.movesFrom("b"), {});
  assert.deepEqual(pins.movesByReason(), { rate_limited: 1 });
});

Deno.test("PinBook forgets idle pins on lookup and on sweep", () => {
  const { pins, removed, advance } = book(1_000);
  pins.pin("k1", TARGET);
  pins.pin("k2", TARGET);
  advance(600);
  pins.touch(pins.get("k2")!, "m");
  advance(500);
  assert.equal(pins.get("k1"), undefined);
  assert.equal(pins.liveCount("a"), 1);
  assert.equal(pins.list().length, 1);
  advance(1_000);
  assert.equal(pins.sweep(), 1);
  assert.equal(pins.size, 0);
  assert.deepEqual(removed, ["k1", "k2"]);
});

Deno.test("PinBook.restore() skips expired pins and counts the rest", () => {
  const { pins } = book(1_000);
  const base = { ...TARGET, createdAt: 0, turns: 4 };
  pins.restore([
    { ...base, key: "old", lastUsedAt: 8_000 },
    { ...base, key: "live", lastUsedAt: 9_500 },
  ]);
  assert.equal(pins.size, 1);
  assert.equal(pins.get("live")?.turns, 4);
  assert.equal(pins.liveCount("a"), 1);
});

Deno.test("PinBook over its cap evicts the least recently used pin, counts it and deletes it from the store", () => {
  const { pins, removed, advance } = book(60_000, 3);
  pins.pin("k1", TARGET);
  advance(1);
  pins.pin("k2", TARGET);
  advance(1);
  pins.pin("k3", { ...TARGET, account: "b" });
  advance(1);
  // A later turn of k1 makes k2 the least recently used.
  pins.touch(pins.get("k1")!, "m");
  advance(1);
  pins.pin("k4", TARGET);
  assert.equal(pins.size, 3);
  assert.equal(pins.evictions, 1);
  assert.equal(pins.get("k2"), undefined);
  assert.deepEqual(removed, ["k2"]);
  assert.equal(pins.liveCount("a"), 2, "k1 and k4; the evicted k2 no longer counts as load");
  // A move is a use too: k3 moved, so k1 is now the oldest.
  advance(1);
  pins.move(pins.get("k3")!, TARGET, "rate_limited");
  advance(1);
  pins.pin("k5", TARGET);
  assert.deepEqual(pins.list().map((p) => p.key), ["k5", "k3", "k4"]);
  assert.equal(pins.evictions, 2);
  for (let i = 0; i < 1_000; i++) pins.pin(`flood${i}`, TARGET);
  assert.equal(pins.size, 3);
  assert.equal(pins.evictions, 1_002);
  assert.equal(pins.liveCount("a"), 3);
  assert.equal(pins.maxPins, 3);
});

Deno.test("PinBook drops an expired pin over the cap without counting an eviction", () => {
  const { pins, advance } = book(1_000, 1);
  pins.pin("k1", TARGET);
  advance(2_000);
  pins.pin("k2", TARGET);
  assert.equal(pins.size, 1);
  assert.equal(pins.evictions, 0);
});

Deno.test("PinBook.restore() keeps the most recently used pins within the cap", () => {
  const { pins, removed } = book(1_000, 2);
  const base = { ...TARGET, createdAt: 0, turns: 1 };
  pins.restore([
    { ...base, key: "newest", lastUsedAt: 9_900 },
    { ...base, key: "oldest", lastUsedAt: 9_100 },
    { ...base, key: "middle", lastUsedAt: 9_500 },
  ]);
  assert.deepEqual(pins.list().map((p) => p.key), ["newest", "middle"]);
  assert.deepEqual(removed, ["oldest"]);
  assert.equal(pins.evictions, 1);
  assert.equal(pins.liveCount("a"), 2);
});
