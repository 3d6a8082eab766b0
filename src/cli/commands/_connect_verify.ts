/**
 * `connect`'s key check: before the account is written, the provider's models
 * endpoint is called with the new key through the account's proxy settings,
 * the same call the catalog makes (`fetchModelList`).
 */
import { CliError } from "../../core/errors.ts";
import type { LoadedConfig } from "../../config/load.ts";
import { buildAccounts } from "../../proxy/runtime_accounts.ts";
import { fetchModelList } from "../../proxy/models_fetch.ts";
import { joinUrl } from "../../proxy/upstream.ts";

/** How long the check waits for the provider. */
const VERIFY_TIMEOUT_MS = 15_000;

/** What the check found: the number of models, or why the key was not accepted. */
export type VerifyResult =
  | { ok: true; models: number }
  | { ok: false; status?: number; why: string };

/** Calls the models endpoint of `providerId` with the key of `accountName` in `loaded`. */
export async function verifyAccount(
  loaded: LoadedConfig,
  providerId: string,
  accountName: string,
): Promise<VerifyResult> {
  const provider = loaded.config.providers[providerId];
  const endpoint = provider.models_endpoint;
  if (endpoint.method === "DISABLED") {
    return { ok: false, why: "the provider's models endpoint is disabled in its template" };
  }
  const accounts = buildAccounts(loaded);
  try {
    const account = accounts.find((a) => a.provider.id === providerId && a.name === accountName)!;
    const r = await fetchModelList(account, {
      method: endpoint.method,
      path: endpoint.path,
      query: endpoint.query,
      body: endpoint.body,
      timeoutMs: VERIFY_TIMEOUT_MS,
      clock: Date.now,
    });
    if (r.ok) return { ok: true, models: r.models?.length ?? 0 };
    if (r.statusCode === 401 || r.statusCode === 403) {
      return {
        ok: false,
        status: r.statusCode,
        why: `the provider rejected this key (HTTP ${r.statusCode})`,
      };
    }
    return { ok: false, status: r.statusCode, why: r.error ?? `HTTP ${r.statusCode}` };
  } finally {
    for (const a of accounts) a.client?.close();
  }
}

/** Runs {@linkcode verifyAccount}, prints the outcome, and refuses the change on failure. */
export async function verifyOrRefuse(
  loaded: LoadedConfig,
  target: { providerId: string; accountName: string; keyless: boolean },
  out: (text: string) => void,
): Promise<number> {
  const p = loaded.config.providers[target.providerId];
  out(`Checking ${joinUrl(p.base_url, p.models_endpoint.path)} ... `);
  const r = await verifyAccount(loaded, target.providerId, target.accountName);
  if (r.ok) {
    const models = `${r.models} model${r.models === 1 ? "" : "s"}`;
    out(`${target.keyless ? "it answers" : "key works"}, ${models}\n`);
    return r.models;
  }
  out("failed\n");
  throw new CliError(
    `${r.why}; nothing was written. Check the ${target.keyless ? "base URL" : "key"}, ` +
      "or pass --no-verify to add it anyway",
  );
}
