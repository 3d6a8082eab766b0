/**
 * Test-only builders for providers and accounts, shared by the routing
 * tests and the routing benchmark.
 *
 * @module
 */
import type { AccountRuntime, ProviderRuntime } from "./account.ts";

/** Options of {@linkcode fakeProvider}. */
export interface FakeProviderOptions {
  priority?: number;
  baseUrl?: string;
  noAuth?: boolean;
}

/** A provider runtime with harmless defaults. */
export function fakeProvider(id: string, options: FakeProviderOptions = {}): ProviderRuntime {
  return {
    id,
    baseUrl: options.baseUrl ?? `http://127.0.0.1:9/${id}/v1`,
    protocols: ["openai"],
    paths: { openai: "/chat/completions", anthropic: "/messages" },
    modelPaths: new Map(),
    auth: { mode: options.noAuth ? "none" : "bearer", header: "Authorization", scheme: "Bearer" },
    headers: [],
    priority: options.priority ?? 0,
    headersTimeoutMs: 5_000,
    idleTimeoutMs: 5_000,
  };
}

/** Options of {@linkcode fakeAccount}. */
export interface FakeAccountOptions {
  weight?: number;
  enabled?: boolean;
  /** `null` = no key. */
  key?: string | null;
}

/** An account of `provider` with a key named after it. */
export function fakeAccount(
  name: string,
  provider: ProviderRuntime,
  options: FakeAccountOptions = {},
): AccountRuntime {
  return {
    name,
    provider,
    enabled: options.enabled ?? true,
    weight: options.weight ?? 1,
    key: options.key === null ? undefined : options.key ?? `sk-${name}`,
  };
}

/** A clock the test moves by hand. */
export interface FakeClock {
  (): number;
  now: number;
  advance(ms: number): void;
}

/** A manual clock starting at `start` (default: a fixed instant in 2025). */
export function fakeClock(start = 1_750_000_000_000): FakeClock {
  const clock = (() => clock.now) as FakeClock;
  clock.now = start;
  clock.advance = (ms: number) => {
    clock.now += ms;
  };
  return clock;
}

/** A seeded pseudo-random source (mulberry32), for deterministic shuffles. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
