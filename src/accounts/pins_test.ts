import assert from "node:assert/strict";
import { PinBook } from "./pins.ts";
import type { Pin, PinStore } from "./pins.ts";

function book(idleMs = 1_000) {
  let now = 10_000;
  const saved: string[] = [];
  const removed: string[] = [];
  const store: PinStore = {
    save: (p: Pin) => saved.push(`${p.key}@${p.account}#${p.turns}`),
    remove: (k: string) => removed.push(k),
  };
  const pins = new PinBook({ clock: () => now, idleMs, store });
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
