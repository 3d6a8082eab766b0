/**
 * Backup archives (spec 05 §6): `eggpool-backup-YYYYMMDD-HHMMSS.zip`, stored
 * members `META`, `config.toml`, `.env` (when one is beside the config) and
 * `usage.sqlite3` (an online-backup snapshot). `META` is TOML: the spec's
 * fields plus a `[sha256]` table with each other member's checksum, so
 * `recover` can prove every byte before it replaces anything. Written to
 * `*.zip.tmp` and renamed, so a half-written archive never carries the name.
 */
import { parse as parseToml } from "smol-toml";
import { joinPath } from "../config/paths.ts";
import { snapshotDatabase } from "../storage/snapshot.ts";
import { ArchiveError, extractEntry, readZipEntries, ZipWriter } from "./zip_store.ts";
import { pathExists } from "./env.ts";

export { ArchiveError } from "./zip_store.ts";

/** Member names; anything else in an archive is refused. */
export const MEMBER = {
  meta: "META",
  config: "config.toml",
  env: ".env",
  db: "usage.sqlite3",
} as const;
const KNOWN = new Set<string>(Object.values(MEMBER));
const FORMAT_VERSION = 1;
const NAME_RE = /^eggpool-backup-\d{8}-\d{6}(-\d+)?\.zip$/;

/** What `META` says. */
export interface BackupMeta {
  formatVersion: number;
  createdAt: string;
  installMethod: string;
  configPath: string;
  dbPath: string;
  envPath?: string;
  /** Members besides META, sorted. */
  members: string[];
  sha256: Record<string, string>;
}

/** What {@linkcode createBackup} reads. */
export interface BackupSources {
  configPath: string;
  dbPath: string;
  /** The `.env` beside the config, when it exists. */
  envPath?: string;
  installMethod: string;
}

/** A written archive. */
export interface WrittenBackup {
  path: string;
  meta: BackupMeta;
  /** True when the database file did not exist (nothing to snapshot yet). */
  noDatabase: boolean;
}

function tomlString(s: string): string {
  return JSON.stringify(s); // a JSON string is a TOML basic string
}

/** Renders `META`. */
export function renderMeta(meta: BackupMeta): string {
  const lines = [
    `format_version = ${meta.formatVersion}`,
    `created_at = ${tomlString(meta.createdAt)}`,
    `install_method = ${tomlString(meta.installMethod)}`,
    `config_path = ${tomlString(meta.configPath)}`,
    `db_path = ${tomlString(meta.dbPath)}`,
    ...(meta.envPath === undefined ? [] : [`env_path = ${tomlString(meta.envPath)}`]),
    `members = ${JSON.stringify(meta.members)}`,
    "",
    "[sha256]",
    ...meta.members.map((m) => `${tomlString(m)} = ${tomlString(meta.sha256[m])}`),
  ];
  return lines.join("\n") + "\n";
}

function field(doc: Record<string, unknown>, key: string): string {
  const v = doc[key];
  if (typeof v !== "string" || v === "") throw new ArchiveError(`META has no "${key}"`);
  return v;
}

/** Parses `META`; anything missing or of another format version is an {@linkcode ArchiveError}. */
export function parseMeta(text: string): BackupMeta {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    throw new ArchiveError(`META is not readable: ${(error as Error).message.split("\n")[0]}`);
  }
  if (doc.format_version !== FORMAT_VERSION) {
    throw new ArchiveError(`META has format_version ${doc.format_version}; this EggPool reads 1`);
  }
  const members = doc.members;
  const sums = doc.sha256;
  if (!Array.isArray(members) || !members.every((m) => typeof m === "string")) {
    throw new ArchiveError('META has no "members" list');
  }
  if (typeof sums !== "object" || sums === null) throw new ArchiveError("META has no checksums");
  const sha256: Record<string, string> = {};
  for (const m of members) {
    const sum = (sums as Record<string, unknown>)[m];
    if (typeof sum !== "string" || !/^[0-9a-f]{64}$/.test(sum)) {
      throw new ArchiveError(`META has no SHA-256 for "${m}"`);
    }
    sha256[m] = sum;
  }
  return {
    formatVersion: FORMAT_VERSION,
    createdAt: field(doc, "created_at"),
    installMethod: field(doc, "install_method"),
    configPath: field(doc, "config_path"),
    dbPath: field(doc, "db_path"),
    envPath: typeof doc.env_path === "string" ? doc.env_path : undefined,
    members: [...members].sort(),
    sha256,
  };
}

function stampOf(at: Date): string {
  const iso = at.toISOString(); // 2026-12-03T12:55:00.000Z
  return `${iso.slice(0, 10).replaceAll("-", "")}-${iso.slice(11, 19).replaceAll(":", "")}`;
}

/** `eggpool-backup-YYYYMMDD-HHMMSS.zip` (UTC) in `dir`, with `-1`, `-2`… when taken. */
export function backupPath(dir: string, at: Date, exists: (p: string) => boolean): string {
  const base = `eggpool-backup-${stampOf(at)}`;
  for (let n = 0;; n++) {
    const path = joinPath(dir, `${base}${n === 0 ? "" : `-${n}`}.zip`);
    if (!exists(path) && !exists(`${path}.tmp`)) return path;
  }
}

/** Writes one archive into `dir` (created with mode 0700 when missing). */
export async function createBackup(
  dir: string,
  sources: BackupSources,
  at: Date,
): Promise<WrittenBackup> {
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = backupPath(dir, at, pathExists);
  const staging = Deno.makeTempDirSync({ dir, prefix: ".eggpool-backup-" });
  const tmp = `${path}.tmp`;
  let writer: ZipWriter | undefined;
  try {
    const snapshot = joinPath(staging, MEMBER.db);
    const noDatabase = !pathExists(sources.dbPath);
    if (!noDatabase) await snapshotDatabase(sources.dbPath, snapshot);
    writer = await ZipWriter.create(tmp, at);
    const sha256: Record<string, string> = {};
    sha256[MEMBER.config] = (await writer.addFile(MEMBER.config, sources.configPath)).sha256;
    if (sources.envPath !== undefined) {
      sha256[MEMBER.env] = (await writer.addFile(MEMBER.env, sources.envPath)).sha256;
    }
    if (!noDatabase) sha256[MEMBER.db] = (await writer.addFile(MEMBER.db, snapshot)).sha256;
    const meta: BackupMeta = {
      formatVersion: FORMAT_VERSION,
      createdAt: `${at.toISOString().slice(0, 19)}Z`,
      installMethod: sources.installMethod,
      configPath: sources.configPath,
      dbPath: sources.dbPath,
      envPath: sources.envPath,
      members: Object.keys(sha256).sort(),
      sha256,
    };
    await writer.addBytes(MEMBER.meta, new TextEncoder().encode(renderMeta(meta)));
    await writer.finish();
    writer = undefined;
    Deno.renameSync(tmp, path);
    return { path, meta, noDatabase };
  } catch (error) {
    writer?.abort();
    try {
      Deno.removeSync(tmp);
    } catch { /* never created */ }
    throw error;
  } finally {
    Deno.removeSync(staging, { recursive: true });
  }
}

/**
 * Checks every member of the archive at `path` (names, CRC-32, SHA-256 from
 * META) and, when `into` is given, extracts them there under their member
 * names. Throws {@linkcode ArchiveError} at the first problem.
 */
export async function verifyBackup(path: string, into?: string): Promise<BackupMeta> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw new ArchiveError(`cannot open ${path}: ${(error as Error).message}`);
  }
  using _file = file;
  const entries = await readZipEntries(file);
  const names = entries.map((e) => e.name);
  const stranger = names.find((n) => !KNOWN.has(n));
  if (stranger !== undefined) throw new ArchiveError(`unexpected member "${stranger}"`);
  if (new Set(names).size !== names.length) throw new ArchiveError("a member appears twice");
  const metaEntry = entries.find((e) => e.name === MEMBER.meta);
  if (metaEntry === undefined) throw new ArchiveError("the archive has no META");
  const metaFile = into === undefined ? undefined : joinPath(into, MEMBER.meta);
  await extractEntry(file, metaEntry, metaFile);
  const metaBytes = metaFile === undefined
    ? await readMember(file, metaEntry)
    : await Deno.readFile(metaFile);
  const meta = parseMeta(new TextDecoder().decode(metaBytes));
  const listed = names.filter((n) => n !== MEMBER.meta).sort();
  if (JSON.stringify(listed) !== JSON.stringify(meta.members)) {
    throw new ArchiveError(
      `the members (${listed.join(", ")}) differ from META's list (${meta.members.join(", ")})`,
    );
  }
  if (!meta.members.includes(MEMBER.config)) throw new ArchiveError("the archive has no config");
  for (const entry of entries) {
    if (entry.name === MEMBER.meta) continue;
    const digest = await extractEntry(
      file,
      entry,
      into === undefined ? undefined : joinPath(into, entry.name),
    );
    if (digest.sha256 !== meta.sha256[entry.name]) {
      throw new ArchiveError(`member "${entry.name}" does not match its SHA-256 in META`);
    }
  }
  return meta;
}

async function readMember(
  file: Deno.FsFile,
  entry: { dataOffset: number; size: number },
): Promise<Uint8Array> {
  const out = new Uint8Array(entry.size);
  await file.seek(entry.dataOffset, Deno.SeekMode.Start);
  let done = 0;
  while (done < out.length) {
    const n = await file.read(out.subarray(done));
    if (n === null) throw new ArchiveError("META is truncated");
    done += n;
  }
  return out;
}

/** One archive found by {@linkcode listBackups}. */
export interface BackupListing {
  path: string;
  name: string;
  bytes: number;
  modifiedMs: number;
}

/** `eggpool-backup-*.zip` files in `dir`, newest first; none when the folder is missing. */
export function listBackups(dir: string): BackupListing[] {
  const found: BackupListing[] = [];
  let entries: Iterable<Deno.DirEntry>;
  try {
    entries = Deno.readDirSync(dir);
  } catch {
    return [];
  }
  for (const e of entries) {
    if (!e.isFile || !NAME_RE.test(e.name)) continue;
    const path = joinPath(dir, e.name);
    const info = Deno.statSync(path);
    found.push({ path, name: e.name, bytes: info.size, modifiedMs: info.mtime?.getTime() ?? 0 });
  }
  return found.sort((a, b) => b.modifiedMs - a.modifiedMs || b.name.localeCompare(a.name));
}
