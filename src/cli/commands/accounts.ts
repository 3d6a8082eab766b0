import { Command } from "commander";
import { loadConfig } from "../../config/load.ts";
import type { LoadedConfig } from "../../config/load.ts";
import {
  describeKeySource,
  resolveAccountKey,
  resolveServerApiKey,
} from "../../config/credentials.ts";
import type { CliContext } from "../context.ts";

/** How long `accounts status` waits for a running server before using the config alone. */
const STATUS_TIMEOUT_MS = 2_000;

/** `abcd...wxyz`, or `****` for keys of 8 characters or fewer (spec 07 §3). */
export function maskKey(key: string): string {
  return key.length <= 8 ? "****" : `${key.slice(0, 4)}...${key.slice(-4)}`;
}

function keyLabel(loaded: LoadedConfig, providerId: string, name: string): string {
  const source = describeKeySource(loaded, providerId, name);
  if (source === "inline") {
    const key = resolveAccountKey(loaded, providerId, name);
    return key === undefined ? "unset" : maskKey(key);
  }
  const env = /^env:(\S+) \((set|missing)\)$/.exec(source);
  if (env) return env[2] === "set" ? `env:${env[1]}` : `env:${env[1]} (unset)`;
  if (source === "none") return "unset";
  return source;
}

function listAccounts(ctx: CliContext, loaded: LoadedConfig): void {
  const rows: string[] = [];
  for (const p of Object.values(loaded.config.providers)) {
    for (const a of p.accounts) rows.push(`  ${p.id}/${a.name}  ${keyLabel(loaded, p.id, a.name)}`);
  }
  if (rows.length === 0) {
    ctx.io.out(
      "No accounts configured. Add [[providers.<id>.accounts]] to the config, " +
        "then run 'eggpool check-config'.\n",
    );
    return;
  }
  ctx.io.out(`Configured accounts:\n${rows.join("\n")}\n\nTotal: ${rows.length} accounts\n`);
}

/** The loopback origin of the configured server (wildcard binds are reached on 127.0.0.1). */
export function serverOrigin(loaded: LoadedConfig): string {
  const { host, port } = loaded.config.server;
  const target = host === "0.0.0.0" || host === "" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${target.includes(":") ? `[${target}]` : target}:${port}`;
}

interface LiveAccount {
  name: string;
  provider_id: string;
  priority: number;
  enabled: boolean;
  weight: number;
  in_flight: number;
  circuit: { state: string; consecutive_failures: number };
  /** The badge state (issue #14); absent from older servers. */
  health?: {
    state: string;
    reason: string | null;
    until?: string | null;
    last_failure_at: string | null;
    status_code: number | null;
  };
  backoffs: Array<
    {
      reason: string;
      model_id: string | null;
      backoff_until: string | null;
      status_code: number | null;
    }
  >;
  windows: Record<
    string,
    {
      requests: number;
      tokens: number;
      cost_microdollars: number;
      limit_microdollars: number | null;
    }
  >;
  last_error: { at: string; error_class: string; status_code: number | null } | null;
  /** Prompt-cache affinity (issue #5); absent from older servers. */
  affinity?: { live_pins: number; moves: Record<string, number>; cache_share: number | null };
  /** The last models-endpoint fetch; absent from older servers. */
  catalog?: {
    last_attempt_at: string | null;
    last_success_at: string | null;
    last_error: string | null;
  };
}

async function fetchLive(
  loaded: LoadedConfig,
): Promise<{ ok: true; accounts: LiveAccount[] } | { ok: false; why: string }> {
  const key = resolveServerApiKey(loaded);
  const url = `${serverOrigin(loaded)}/api/accounts/status`;
  try {
    const res = await fetch(url, {
      headers: key === undefined ? {} : { authorization: `Bearer ${key}` },
      signal: AbortSignal.timeout(STATUS_TIMEOUT_MS),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return { ok: false, why: `the server at ${url} answered HTTP ${res.status}` };
    }
    const body = await res.json() as { accounts?: LiveAccount[] };
    return { ok: true, accounts: body.accounts ?? [] };
  } catch {
    return { ok: false, why: `no server answered at ${serverOrigin(loaded)}` };
  }
}

function dollars(micros: number): string {
  return `$${(micros / 1_000_000).toFixed(2)}`;
}

/** The health state with what it rests on, as the dashboard's badge and note say it. */
function healthLine(h: NonNullable<LiveAccount["health"]>): string {
  const parts = [`    health: ${h.state}`];
  if (h.reason !== null && h.reason !== h.state) parts.push(` (${h.reason})`);
  if (h.until === null) parts.push(" until the key changes");
  else if (h.until !== undefined) {
    parts.push(
      Date.parse(h.until) > Date.now() ? ` until ${h.until}` : `, backoff over at ${h.until}`,
    );
  }
  if (h.status_code !== null) parts.push(`, HTTP ${h.status_code}`);
  if (h.last_failure_at !== null) parts.push(`, last failure ${h.last_failure_at}`);
  return parts.join("");
}

function renderLive(a: LiveAccount): string[] {
  const lines = [
    `  ${a.name}: provider=${a.provider_id}, priority=${a.priority}, enabled=${a.enabled}, ` +
    `weight=${a.weight}, in_flight=${a.in_flight}, circuit=${a.circuit.state}` +
    (a.health === undefined ? "" : `, health=${a.health.state}`),
  ];
  if (a.health !== undefined && a.health.state !== "healthy") lines.push(healthLine(a.health));
  const windows = Object.entries(a.windows).map(([name, w]) => {
    const limit = w.limit_microdollars === null ? "" : ` of ${dollars(w.limit_microdollars)}`;
    return `${name} ${w.requests} req, ${w.tokens} tok, ${dollars(w.cost_microdollars)}${limit}`;
  });
  lines.push(`    windows: ${windows.join(" | ")}`);
  if (a.affinity !== undefined) {
    const f = a.affinity;
    const share = f.cache_share === null ? "n/a" : `${(f.cache_share * 100).toFixed(1)}%`;
    const moves = Object.entries(f.moves).map(([why, n]) => `${why} ${n}`).join(", ") || "none";
    lines.push(
      `    affinity: ${f.live_pins} live pins, cache share ${share}, moves away: ${moves}`,
    );
  }
  for (const b of a.backoffs) {
    const scope = b.model_id === null ? "" : ` (model ${b.model_id})`;
    const until = b.backoff_until === null ? "until the key changes" : `until ${b.backoff_until}`;
    const code = b.status_code === null ? "" : `, HTTP ${b.status_code}`;
    lines.push(`    backoff: ${b.reason}${scope} ${until}${code}`);
  }
  if (a.catalog?.last_error != null) {
    const when = a.catalog.last_attempt_at === null ? "" : ` at ${a.catalog.last_attempt_at}`;
    const last = a.catalog.last_success_at === null
      ? "never fetched"
      : `last good list ${a.catalog.last_success_at}`;
    lines.push(`    catalog error${when}: ${a.catalog.last_error} (${last})`);
  }
  if (a.last_error !== null) {
    const code = a.last_error.status_code === null ? "" : ` (HTTP ${a.last_error.status_code})`;
    lines.push(`    last error: ${a.last_error.error_class}${code} at ${a.last_error.at}`);
  }
  return lines;
}

function renderConfigOnly(loaded: LoadedConfig): string[] {
  const lines: string[] = [];
  for (const p of Object.values(loaded.config.providers)) {
    for (const a of p.accounts) {
      const env = a.api_key_env === "" ? "-" : a.api_key_env;
      const set = resolveAccountKey(loaded, p.id, a.name) === undefined ? "no" : "yes";
      lines.push(
        `  ${a.name}: provider=${p.id}, priority=${p.routing_priority}, enabled=${a.enabled}, ` +
          `weight=${a.weight}, api_key_env=${env} (set=${set})`,
      );
    }
  }
  return lines;
}

async function showStatus(ctx: CliContext, loaded: LoadedConfig, json: boolean): Promise<void> {
  const live = await fetchLive(loaded);
  if (json) {
    ctx.io.out(
      `${JSON.stringify(live.ok ? { live: true, accounts: live.accounts } : { live: false })}\n`,
    );
    return;
  }
  const lines: string[] = [];
  let total: number;
  if (live.ok) {
    lines.push(`Account status from ${serverOrigin(loaded)}:`);
    for (const a of live.accounts) lines.push(...renderLive(a));
    total = live.accounts.length;
  } else {
    lines.push(`Account status from the config only (${live.why}):`);
    const rows = renderConfigOnly(loaded);
    lines.push(...rows);
    total = rows.length;
  }
  lines.push(`Total accounts: ${total}`);
  ctx.io.out(`${lines.join("\n")}\n`);
}

/** `eggpool accounts list|status`. */
export function accountsCommand(ctx: CliContext): Command {
  const accounts = new Command("accounts").description("upstream accounts");
  accounts.command("list")
    .description("list configured accounts with masked keys")
    .action(async () => listAccounts(ctx, await loadConfig(ctx.configPath().path)));
  accounts.command("status")
    .description("routing state per account from the running server (config only when it is down)")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }) => {
      const loaded = await loadConfig(ctx.configPath().path);
      await showStatus(ctx, loaded, options.json === true);
    });
  return accounts;
}
