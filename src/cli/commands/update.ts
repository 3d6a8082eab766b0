import { Command } from "commander";
import { pidFileCandidates } from "../../config/paths.ts";
import { CliError } from "../../core/errors.ts";
import { DISK_PROBE } from "../../ops/env.ts";
import { detectInstall, type InstallKind } from "../../ops/install_kind.ts";
import { findServer } from "../../ops/pid_file.ts";
import {
  assetName,
  binaryVersion,
  checksumFor,
  CHECKSUMS_ASSET,
  compareVersions,
  DEFAULT_RELEASES_URL,
  downloadVerified,
  fetchRelease,
  fetchText,
  type Release,
  RELEASES_URL_ENV,
  replaceBinary,
  stagingPath,
  UpdateError,
} from "../../ops/self_update.ts";
import { systemdScopeOf } from "../../ops/systemd_unit.ts";
import type { CliContext } from "../context.ts";
import { EGGPOOL_VERSION } from "../version.ts";
import { loadValidConfig } from "./_lifecycle.ts";
import { restartWith } from "./restart.ts";
import { DEFAULT_STOP_TIMEOUT_S } from "./stop.ts";

/** Flags of `update`. */
export interface UpdateFlags {
  check?: boolean;
  asRoot?: boolean;
}

function howToUpdate(install: Exclude<InstallKind, { kind: "binary" }>): string {
  return install.kind === "source"
    ? `This eggpool runs from a source checkout (${install.dir}), so update does not replace ` +
      `anything: run 'git -C ${install.dir} pull', then 'deno task install' in that folder.\n`
    : `This eggpool runs from the bundle in ${install.dir}, so update does not replace ` +
      "anything: install the release binary instead (see README, Install), or rebuild the " +
      "bundle from an updated checkout with 'deno task bundle'.\n";
}

function assertWritable(staging: string, target: string): void {
  try {
    Deno.writeFileSync(staging, new Uint8Array(), { createNew: true });
    Deno.removeSync(staging);
  } catch (error) {
    throw new CliError(
      `cannot write beside ${target} (${(error as Error).message}): run the update as the ` +
        "user owning that file (with sudo for /usr/local/bin)",
    );
  }
}

async function install(ctx: CliContext, release: Release, target: string): Promise<string> {
  const name = assetName();
  const binaryUrl = release.assets.get(name);
  const sumsUrl = release.assets.get(CHECKSUMS_ASSET);
  if (binaryUrl === undefined) {
    throw new CliError(`release ${release.tag} has no ${name} for this machine; nothing changed`);
  }
  if (sumsUrl === undefined) {
    throw new CliError(
      `release ${release.tag} has no ${CHECKSUMS_ASSET}; not installing unchecked`,
    );
  }
  const staging = stagingPath(target);
  assertWritable(staging, target);
  const expected = checksumFor(await fetchText(sumsUrl), name);
  if (expected === undefined) {
    throw new CliError(`${CHECKSUMS_ASSET} of ${release.tag} lists no ${name}; nothing changed`);
  }
  ctx.io.out(`Downloading ${name} of ${release.tag}...\n`);
  try {
    await downloadVerified(binaryUrl, staging, expected);
  } catch (error) {
    if (error instanceof UpdateError) throw new CliError(`${error.message}; nothing changed`);
    throw error;
  }
  const mode = Deno.statSync(target).mode ?? 0o755;
  Deno.chmodSync(staging, (mode & 0o777) | 0o100);
  const runs = await binaryVersion(staging);
  if (runs === undefined || !runs.startsWith(`eggpool ${release.version}`)) {
    Deno.removeSync(staging);
    throw new CliError(
      `the downloaded binary does not run here or reports another version ` +
        `(${runs ?? "it failed to start"}); nothing changed`,
    );
  }
  return replaceBinary(staging, target);
}

/** Reports the latest (or requested) release and, for a binary install, installs it. */
export async function runUpdate(
  ctx: CliContext,
  version: string | undefined,
  flags: UpdateFlags,
): Promise<void> {
  const found = detectInstall(ctx.env);
  if (found.kind !== "binary" && !flags.check) {
    ctx.io.out(howToUpdate(found));
    return;
  }
  const base = ctx.env.get(RELEASES_URL_ENV) || DEFAULT_RELEASES_URL;
  let release: Release;
  try {
    release = await fetchRelease(base, version);
  } catch (error) {
    if (error instanceof UpdateError) throw new CliError(error.message);
    throw error;
  }
  ctx.io.out(`Current version: ${EGGPOOL_VERSION}\n`);
  ctx.io.out(`${version === undefined ? "Latest" : "Requested"} version: ${release.version}\n`);
  const order = compareVersions(release.version, EGGPOOL_VERSION);
  if (order === 0 || (order < 0 && version === undefined)) {
    ctx.io.out("Already up to date.\n");
    return;
  }
  // Only --check gets here from a checkout or the bundle (see the top).
  if (flags.check || found.kind !== "binary") {
    if (found.kind === "binary") {
      ctx.io.out(`Run 'eggpool update${version ? ` ${version}` : ""}' to install it.\n`);
    } else ctx.io.out(howToUpdate(found));
    return;
  }
  const server = findServer(pidFileCandidates(ctx.env, DISK_PROBE));
  const bak = await install(ctx, release, found.path);
  ctx.io.out(`Updated ${found.path} to ${release.version}; the previous binary is ${bak}\n`);
  if (!server.running) return;
  const scope = systemdScopeOf(server.pid);
  if (scope !== undefined) {
    ctx.io.out(
      "The server runs under systemd: restart it with " +
        `'${scope === "user" ? "systemctl --user" : "sudo systemctl"} restart eggpool'.\n`,
    );
    return;
  }
  await restartWith(ctx, await loadValidConfig(ctx), {
    timeout: DEFAULT_STOP_TIMEOUT_S,
    asRoot: flags.asRoot,
  });
}

/** `eggpool update [VERSION] [--check]` (09-decisions). */
export function updateCommand(ctx: CliContext): Command {
  return new Command("update")
    .description("replace this binary with the latest (or VERSION) release, checksum checked")
    .argument("[version]", "a release version such as 0.2.0 (default: the latest)")
    .option("--check", "only report whether a newer release exists")
    .option("--as-root", "allow restarting the server as root")
    .action((version: string | undefined, flags: UpdateFlags) => runUpdate(ctx, version, flags));
}
