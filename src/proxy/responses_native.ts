/**
 * `POST /v1/responses` passed through to providers that serve the Responses
 * API themselves (`responses_path`, spec 01 §3, 04 §7): which providers of a
 * request's routes do, the tier order under `prefer_native`, and the body
 * each account gets.
 *
 * Encrypted reasoning (`include: ["reasoning.encrypted_content"]`) is bound
 * to the account that produced it: another account, even of the same
 * provider, refuses it. EggPool remembers which account minted each blob (a
 * hash of it, from the final response it relayed) and sends a reasoning item
 * back only to that account; any other account gets the turn without it, so a
 * failover never fails on reasoning it cannot read.
 */
import { hash64 } from "../core/hash64.ts";
import type { Routes, RouteTier } from "./_routes.ts";

type Obj = Record<string, unknown>;
type Bytes = Uint8Array<ArrayBuffer>;

const ENCODER = new TextEncoder();

/** Blobs remembered at most; the oldest are forgotten first (their turns then lose the reasoning). */
const MAX_OWNERS = 16_384;

/** Which account minted each encrypted reasoning blob, by a hash of the blob. */
export class ReasoningOwners {
  readonly #owners = new Map<string, string>();
  readonly #max: number;

  constructor(max = MAX_OWNERS) {
    this.#max = max;
  }

  /** Records the blobs of a response `account` produced. */
  remember(blobs: readonly string[], account: string): void {
    for (const blob of blobs) {
      const key = hash64(blob);
      this.#owners.delete(key); // re-inserted: now the newest
      this.#owners.set(key, account);
    }
    while (this.#owners.size > this.#max) {
      const oldest = this.#owners.keys().next().value!;
      this.#owners.delete(oldest);
    }
  }

  /** The account that minted `blob`, if remembered. */
  ownerOf(blob: string): string | undefined {
    return this.#owners.get(hash64(blob));
  }
}

/**
 * The routes of a Responses request with its pass-through providers first
 * (`prefer_native`), or unchanged when none serves the model natively or both
 * kinds rank together. Returns the pass-through providers beside.
 */
export function withResponsesTier(
  routes: Routes,
  serving: ReadonlySet<string>,
  preferNative: boolean,
): { routes: Routes; native: ReadonlySet<string> } {
  const native = new Set<string>();
  for (const p of routes.providers) {
    if (serving.has(p) && (routes.upstreamOf?.get(p) ?? "openai") === "openai") native.add(p);
  }
  if (native.size === 0 || !preferNative) return { routes, native };
  const tiers: RouteTier[] = [{ providers: native, protocol: "openai" }];
  for (const t of routes.tiers) {
    const rest = new Set<string>();
    for (const p of t.providers) if (!native.has(p)) rest.add(p);
    if (rest.size > 0) tiers.push({ providers: rest, protocol: t.protocol });
  }
  return { routes: { ...routes, tiers }, native };
}

/** The client's Responses body, prepared once per request for its pass-through attempts. */
export class NativeBody {
  readonly #body: Obj;
  /** Indices of `input` items carrying encrypted reasoning. */
  readonly #bound: number[] = [];
  #plain?: Bytes;

  /** `raw`: the client's bytes, sent as they are when nothing needs to change. */
  constructor(body: Obj, modelId: string, raw?: Bytes) {
    this.#body = body.model === modelId ? body : { ...body, model: modelId };
    if (body.model === modelId) this.#plain = raw;
    const input = body.input;
    if (Array.isArray(input)) {
      for (let i = 0; i < input.length; i++) {
        if (encryptedOf(input[i]) !== undefined) this.#bound.push(i);
      }
    }
  }

  /**
   * The bytes for `account`: reasoning items another account minted (or one
   * EggPool does not know) are left out, and named in `dropped`.
   */
  forAccount(account: string, owners: ReasoningOwners): { bytes: Bytes; dropped?: string } {
    if (this.#bound.length === 0) return { bytes: this.#plain ??= encode(this.#body) };
    const input = this.#body.input as unknown[];
    const drop = new Set<number>();
    for (const i of this.#bound) {
      if (owners.ownerOf(encryptedOf(input[i])!) !== account) drop.add(i);
    }
    if (drop.size === 0) return { bytes: encode(this.#body) };
    const kept = input.filter((_, i) => !drop.has(i));
    const dropped = [...drop].map((i) => `input[${i}] (encrypted reasoning of another account)`)
      .join(", ");
    return { bytes: encode({ ...this.#body, input: kept }), dropped };
  }
}

function encryptedOf(item: unknown): string | undefined {
  if (typeof item !== "object" || item === null) return undefined;
  const r = item as Obj;
  return r.type === "reasoning" && typeof r.encrypted_content === "string"
    ? r.encrypted_content
    : undefined;
}

function encode(body: Obj): Bytes {
  return ENCODER.encode(JSON.stringify(body)) as Bytes;
}
