/**
 * The systemd units' stop timeout, derived from the server's shutdown grace so
 * that systemd's SIGKILL never lands before the server has ended its streams
 * and flushed its stats.
 */
import { loadConfig } from "../../config/load.ts";
import { ServerSchema } from "../../config/schema_core.ts";

const DEFAULT_SHUTDOWN_GRACE_S: number = ServerSchema.parse({}).shutdown_grace_s;

/**
 * Seconds past the shutdown grace that systemd's `TimeoutStopSec` allows: the
 * server's 2 s wait for clients to take their error events
 * (`SHUTDOWN_CLOSE_WAIT_MS` in `http/serve.ts`, not imported: it would load
 * the whole server into the CLI) and room for the stats flush. SIGKILL
 * arriving before the flush would lose the last requests' stats.
 */
const STOP_MARGIN_S = 20;

/** The unit's `TimeoutStopSec` for a server with `graceS` of shutdown grace (spec 07: at least 30). */
export function stopTimeoutSec(graceS: number): number {
  return Math.max(30, Math.ceil(graceS) + STOP_MARGIN_S);
}

/** `unit` with its `TimeoutStopSec` line set for `graceS`. */
export function withStopTimeout(unit: string, graceS: number): string {
  return unit.replace(/^TimeoutStopSec=\d+$/m, `TimeoutStopSec=${stopTimeoutSec(graceS)}`);
}

/** `[server].shutdown_grace_s` of the config at `path`, or its default when it cannot be read. */
export async function configuredGraceS(
  path: string,
  env: (name: string) => string | undefined,
): Promise<number> {
  try {
    return (await loadConfig(path, { env })).config.server.shutdown_grace_s;
  } catch {
    return DEFAULT_SHUTDOWN_GRACE_S;
  }
}
