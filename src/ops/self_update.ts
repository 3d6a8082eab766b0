/**
 * `update` (09-decisions): our own binary from the project's GitHub releases.
 * .github/workflows/release.yml attaches `eggpool-<arch>-linux` for x86_64
 * and aarch64 and a `SHA256SUMS` listing both (`sha256sum` format); the new
 * file is downloaded beside the installed one, checked against that list,
 * made executable, asked for its version, and only then renamed over the
 * old binary (atomic within the folder), with the old one kept as `.bak`.
 */
import { dirName } from "../config/paths.ts";
import { sha256Stream } from "./zip_store.ts";

/** Overrides where releases are read (tests serve a fake release on loopback). */
export const RELEASES_URL_ENV = "EGGPOOL_RELEASES_URL";
/** The GitHub API folder of the project's releases. */
export const DEFAULT_RELEASES_URL = "https://api.github.com/repos/eggstack/eggpool/releases";
/** The checksum file the release workflow attaches. */
export const CHECKSUMS_ASSET = "SHA256SUMS";
const API_TIMEOUT_MS = 20_000;
/** A binary is tens of MB; a Pi on a slow line may need minutes. */
const DOWNLOAD_TIMEOUT_MS = 15 * 60_000;

/** An update step failed; the message is one line for the operator. */
export class UpdateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UpdateError";
  }
}

/** One release as the GitHub API describes it. */
export interface Release {
  tag: string;
  /** The tag without its leading `v`. */
  version: string;
  pageUrl: string;
  /** Asset name → download URL. */
  assets: Map<string, string>;
}

/** The release asset for this machine, as the release workflow names it. */
export function assetName(arch: string = Deno.build.arch): string {
  return `eggpool-${arch}-linux`;
}

/** Compares dotted versions numerically (`0.10.0` > `0.9.1`); a leading `v` is ignored. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.replace(/^v/, "").split(/[.-]/).map((p) => Number(p) || 0);
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

async function get(url: string, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, {
      headers: { accept: "application/vnd.github+json", "user-agent": "eggpool-update" },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const why = error instanceof Error && error.name === "TimeoutError"
      ? "timed out"
      : "no connection";
    throw new UpdateError(
      `cannot reach ${hostOf(url)} (${why}): check the network connection and try again`,
    );
  }
}

/** Reads the latest release, or the one tagged `v<version>`. */
export async function fetchRelease(base: string, version?: string): Promise<Release> {
  const url = version === undefined
    ? `${base}/latest`
    : `${base}/tags/v${version.replace(/^v/, "")}`;
  const res = await get(url, API_TIMEOUT_MS);
  if (res.status === 404) {
    await res.body?.cancel();
    throw new UpdateError(
      version === undefined ? "no release is published yet" : `no release v${version} exists`,
    );
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new UpdateError(`${hostOf(url)} answered ${res.status} for ${url}; try again later`);
  }
  const body = await res.json().catch(() => undefined) as Record<string, unknown> | undefined;
  const tag = body?.tag_name;
  const list = body?.assets;
  if (typeof tag !== "string" || !Array.isArray(list)) {
    throw new UpdateError(`${url} did not describe a release (no tag_name or assets)`);
  }
  const assets = new Map<string, string>();
  for (const a of list as Array<Record<string, unknown>>) {
    if (typeof a?.name === "string" && typeof a.browser_download_url === "string") {
      assets.set(a.name, a.browser_download_url);
    }
  }
  return {
    tag,
    version: tag.replace(/^v/, ""),
    pageUrl: typeof body?.html_url === "string" ? body.html_url : url,
    assets,
  };
}

/** The checksum `SHA256SUMS` lists for `name` (`<hex>  <name>` or `<hex> *<name>` lines). */
export function checksumFor(sums: string, name: string): string | undefined {
  for (const line of sums.split("\n")) {
    const m = line.trim().match(/^([0-9a-fA-F]{64}) [ *]?(.+)$/);
    if (m && m[2] === name) return m[1].toLowerCase();
  }
  return undefined;
}

/** Downloads a small text asset. */
export async function fetchText(url: string): Promise<string> {
  const res = await get(url, API_TIMEOUT_MS);
  if (!res.ok) {
    await res.body?.cancel();
    throw new UpdateError(`download of ${url} failed: HTTP ${res.status}`);
  }
  return await res.text();
}

/**
 * Streams `url` into `dest` (mode 0700) and checks its SHA-256 against
 * `expected`; on any failure `dest` is removed and an {@linkcode UpdateError} thrown.
 */
export async function downloadVerified(url: string, dest: string, expected: string): Promise<void> {
  try {
    const res = await get(url, DOWNLOAD_TIMEOUT_MS);
    if (!res.ok || res.body === null) {
      await res.body?.cancel();
      throw new UpdateError(`download of ${url} failed: HTTP ${res.status}`);
    }
    const hash = await sha256Stream();
    using out = await Deno.open(dest, { write: true, createNew: true, mode: 0o700 });
    try {
      for await (const chunk of res.body) {
        hash.update(chunk);
        let done = 0;
        while (done < chunk.length) done += await out.write(chunk.subarray(done));
      }
    } catch {
      throw new UpdateError(`the download of ${url} was cut off; try again`);
    }
    await out.sync();
    const got = hash.hex();
    if (got !== expected) {
      throw new UpdateError(
        `the downloaded file's SHA-256 (${got}) is not the one SHA256SUMS lists (${expected})`,
      );
    }
  } catch (error) {
    try {
      Deno.removeSync(dest);
    } catch { /* never created */ }
    throw error;
  }
}

/** Runs `<binary> version`; the first line of its output, or undefined when it fails to run. */
export async function binaryVersion(binary: string): Promise<string | undefined> {
  try {
    const out = await new Deno.Command(binary, {
      args: ["version"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
      env: { NO_COLOR: "1" },
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout).split("\n")[0] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Puts `fresh` in place of `target`: the old file is hard-linked to
 * `<target>.bak` (copied when links are not possible), then `fresh` is
 * renamed over `target`, so the path always names a whole binary.
 */
export function replaceBinary(fresh: string, target: string): string {
  const bak = `${target}.bak`;
  try {
    Deno.removeSync(bak);
  } catch { /* no older backup */ }
  try {
    Deno.linkSync(target, bak);
  } catch {
    Deno.copyFileSync(target, bak);
  }
  Deno.renameSync(fresh, target);
  return bak;
}

/** A temp path beside `target` for the download; throws when that folder is not writable. */
export function stagingPath(target: string): string {
  const path = `${dirName(target)}/.eggpool-update-${Deno.pid}.tmp`;
  try {
    Deno.removeSync(path);
  } catch { /* none left over */ }
  return path;
}
