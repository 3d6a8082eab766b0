import assert from "node:assert/strict";
import { Deadlines } from "./deadlines.ts";

// No assertion here depends on how fast this shared machine is: a deadline may
// fire late under load, never early, so each test checks "not before its time"
// against the clock and waits (up to 10 s) for "eventually, exactly once".
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(done: () => boolean, what: string): Promise<void> {
  const giveUp = performance.now() + 10_000;
  while (!done()) {
    if (performance.now() > giveUp) assert.fail(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

Deno.test("Deadlines fires a deadline once, not before its time, and stops its timer when empty", async () => {
  const d = new Deadlines(5);
  const added = performance.now();
  const firedAt: number[] = [];
  d.add(20, () => firedAt.push(performance.now()));
  assert.equal(firedAt.length, 0);
  await until(() => firedAt.length > 0, "the deadline fired");
  assert.ok(firedAt[0] - added >= 20, `fired after ${firedAt[0] - added} ms, before its 20 ms`);
  assert.equal(d.size, 0);
  await sleep(30);
  assert.equal(firedAt.length, 1, "fired once");
  d.close();
});

Deno.test("Deadlines.arm() pushes a deadline back and clear() cancels it", async () => {
  const d = new Deadlines(5);
  let lastArm = performance.now();
  const waited: number[] = [];
  const a = d.add(30, () => waited.push(performance.now() - lastArm));
  let cleared = 0;
  const b = d.add(30, () => cleared++);
  d.clear(b);
  for (let i = 0; i < 6 && waited.length === 0; i++) {
    await sleep(10);
    if (waited.length > 0) break; // a slow machine let it lapse: it must still not be early
    d.arm(a, 30);
    lastArm = performance.now();
  }
  await until(() => waited.length > 0, "the re-armed deadline fired");
  assert.ok(waited[0] >= 30, `fired ${waited[0]} ms after its last arm, before its 30 ms`);
  await sleep(40);
  assert.equal(waited.length, 1, "fired once");
  assert.equal(cleared, 0, "the cleared deadline never fired");
  d.close();
});

Deno.test("Deadlines reuses a cleared slot, and clearing a fired deadline again leaves the new one armed", async () => {
  const d = new Deadlines(5);
  let first = 0;
  let second = 0;
  const a = d.add(10, () => first++);
  await until(() => first === 1, "the first deadline fired");
  const b = d.add(30, () => second++);
  d.clear(a); // stale handle: must not cancel b, which may now hold a's old slot
  assert.equal(d.size, 1);
  await until(() => second === 1, "the second deadline fired");
  assert.equal(first, 1);
  d.clear(b);
  assert.equal(d.size, 0);
  d.close();
});
