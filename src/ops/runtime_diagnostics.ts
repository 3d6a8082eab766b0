/**
 * The Runtime page's process-count warning, outbound-client figures and
 * reload diagnostics (spec 06 §4), from what the running server holds:
 *
 * - other servers with the same database open (`server_processes.ts`);
 * - per provider: its HTTP clients (one shared keep-alive pool, plus one per
 *   account with an outbound proxy), the `max_connections` slot gate's open
 *   and waiting calls, calls opened and waits timed out since start
 *   (`proxy/slots.ts`), and the requests in flight on its accounts;
 * - the config: EggPool has no live reload (09-decisions: `rehash`
 *   validates, then restarts), so the running config is the one read at
 *   start. What can go wrong is the file changing after: each look hashes
 *   the file, and when it differs validates it as `rehash` would (once per
 *   new digest), so the page says whether a rehash would apply it or fail.
 */
import type { AccountRuntime } from "../accounts/account.ts";
import { assertCredentials } from "../config/credentials.ts";
import { loadConfig } from "../config/load.ts";
import { findServersOnDatabase } from "./server_processes.ts";
import type { ServerProcesses } from "./server_processes.ts";

/** One provider's outbound side. */
export interface ProviderOutbound {
  providerId: string;
  /** Distinct HTTP clients of its accounts. */
  clients: number;
  /** Accounts whose client goes through their own outbound proxy. */
  proxiedAccounts: number;
  accounts: number;
  /** Upstream calls holding a `max_connections` slot now, and the cap. */
  open: number;
  max: number;
  /** Calls waiting for a slot now. */
  waiting: number;
  /** Calls opened since start (chat, messages, responses, count_tokens; not model lists). */
  opened: number;
  /** Waits for a slot that gave up after `pool_timeout_s`, since start. */
  timeouts: number;
  /** Requests in flight on its accounts now (the pool's count). */
  inFlight: number;
}

/** The config file against the config the server runs. */
export interface ConfigCheck {
  path: string;
  /** SHA-256 of the file as read at start. */
  runningDigest: string;
  /** When the server read it: its start (every `rehash` restarts). */
  loadedAt: number;
  /** `same`: the file is what runs; `changed`: edited since; `unreadable`: gone or unreadable. */
  disk: "same" | "changed" | "unreadable";
  diskDigest?: string;
  /** For a changed file: would `eggpool rehash` accept it. */
  valid?: boolean;
  /** Why a changed file fails validation, or why it cannot be read (no values, only paths). */
  error?: string;
  checkedAt: number;
}

/** Everything {@linkcode RuntimeDiagnostics.read} returns. */
export interface RuntimeDiagnosticsView {
  processes: ServerProcesses;
  outbound: ProviderOutbound[];
  config: ConfigCheck;
}

/** Inputs of {@linkcode RuntimeDiagnostics}. */
export interface RuntimeDiagnosticsOptions {
  configPath: string;
  configDigest: string;
  startedAt: number;
  /** Absolute database path. */
  dbPath: string;
  accounts: readonly AccountRuntime[];
  inFlight(account: string): number;
  clock: () => number;
  /** Where to look for other servers; tests point it at a fake `/proc`. */
  procRoot?: string;
}

/** Messages are cut here: a page line, not a log. */
const MAX_ERROR_CHARS = 600;

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text;
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Reads the three parts on demand; only the config validation is remembered (per digest). */
export class RuntimeDiagnostics {
  readonly #o: RuntimeDiagnosticsOptions;
  #validated?: { digest: string; valid: boolean; error?: string };

  constructor(options: RuntimeDiagnosticsOptions) {
    this.#o = options;
  }

  /** Per provider, in config order. */
  outbound(): ProviderOutbound[] {
    const byProvider = new Map<string, AccountRuntime[]>();
    for (const a of this.#o.accounts) {
      const list = byProvider.get(a.provider.id) ?? [];
      list.push(a);
      byProvider.set(a.provider.id, list);
    }
    return [...byProvider].map(([providerId, accounts]) => {
      const slots = accounts[0].provider.slots;
      return {
        providerId,
        clients: new Set(accounts.map((a) => a.client).filter((c) => c !== undefined)).size,
        proxiedAccounts: accounts.filter((a) => a.viaProxy === true).length,
        accounts: accounts.length,
        open: slots?.open ?? 0,
        max: slots?.max ?? 0,
        waiting: slots?.waiting ?? 0,
        opened: slots?.opened ?? 0,
        timeouts: slots?.timeouts ?? 0,
        inFlight: accounts.reduce((n, a) => n + this.#o.inFlight(a.name), 0),
      };
    });
  }

  /** Hashes the config file; validates it when it changed to a digest not yet checked. */
  async config(): Promise<ConfigCheck> {
    const o = this.#o;
    const base = {
      path: o.configPath,
      runningDigest: o.configDigest,
      loadedAt: o.startedAt,
    };
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await Deno.readFile(o.configPath);
    } catch (error) {
      return { ...base, disk: "unreadable", error: messageOf(error), checkedAt: o.clock() };
    }
    const digest = await sha256Hex(bytes);
    if (digest === o.configDigest) return { ...base, disk: "same", checkedAt: o.clock() };
    if (this.#validated?.digest !== digest) {
      try {
        const loaded = await loadConfig(o.configPath);
        assertCredentials(loaded);
        // The file may change again between the read above and this one: judge what was read.
        this.#validated = loaded.digest === digest
          ? { digest, valid: true }
          : { digest: loaded.digest, valid: true };
      } catch (error) {
        this.#validated = { digest, valid: false, error: messageOf(error) };
      }
    }
    const v = this.#validated;
    return {
      ...base,
      disk: "changed",
      diskDigest: v.digest,
      valid: v.valid,
      error: v.error,
      checkedAt: o.clock(),
    };
  }

  /** Other servers on the same database. */
  processes(): ServerProcesses {
    return findServersOnDatabase(this.#o.dbPath, { root: this.#o.procRoot });
  }

  /** All three. */
  async read(): Promise<RuntimeDiagnosticsView> {
    return { processes: this.processes(), outbound: this.outbound(), config: await this.config() };
  }
}
