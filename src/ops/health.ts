/** Talking to a running server from the CLI: its URL and the health probe. */

/** How long the single-instance probe waits for `/v1/healthz` (spec 07 §2). */
export const HEALTH_PROBE_TIMEOUT_MS = 1000;

/** The host a local client should dial: bind-all addresses map to loopback. */
export function clientHost(bindHost: string): string {
  const h = bindHost.trim();
  if (h === "" || h === "0.0.0.0" || h === "::" || h === "[::]") return "127.0.0.1";
  return h.includes(":") && !h.startsWith("[") ? `[${h}]` : h;
}

/** `http://<client host>:<port>` for a server bound to `host:port`. */
export function serverOrigin(host: string, port: number): string {
  return `http://${clientHost(host)}:${port}`;
}

/** True when `GET <origin>/v1/healthz` answers 200 within `timeoutMs`. */
export async function isHealthy(
  origin: string,
  timeoutMs = HEALTH_PROBE_TIMEOUT_MS,
): Promise<boolean> {
  try {
    const res = await fetch(`${origin}/v1/healthz`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}
