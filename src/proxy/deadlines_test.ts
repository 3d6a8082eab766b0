import assert from "node:assert/strict";
import { Deadlines } from "./deadlines.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("Deadlines fires a deadline once after its time and stops its timer when empty", async () => {
  const d = new Deadlines(5);
  let fired = 0;
  d.add(20, () => fired++);
  await sleep(5);
  assert.equal(fired, 0);
  await sleep(60);
  assert.equal(fired, 1);
  assert.equal(d.size, 0);
  d.close();
});

Deno.test("Deadlines.arm() pushes a deadline back and clear() cancels it", async () => {
  const d = new Deadlines(5);
  let fired = 0;
  const a = d.add(30, () => fired++);
  const b = d.add(30, () => fired++);
  d.clear(b);
  for (let i = 0; i < 6; i++) {
    await sleep(10);
    d.arm(a, 30);
  }
  assert.equal(fired, 0, "re-armed before it was due");
  await sleep(80);
  assert.equal(fired, 1);
  d.close();
});

Deno.test("Deadlines reuses a cleared slot, and clearing a fired deadline again leaves the new one armed", async () => {
  const d = new Deadlines(5);
  let first = 0;
  let second = 0;
  const a = d.add(10, () => first++);
  await sleep(50);
  assert.equal(first, 1);
  const b = d.add(30, () => second++);
  d.clear(a); // stale handle: must not cancel b, which may now hold a's old slot
  assert.equal(d.size, 1);
  await sleep(90);
  assert.equal(second, 1);
  d.clear(b);
  assert.equal(d.size, 0);
  d.close();
});
