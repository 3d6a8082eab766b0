/**
 * The backup archive's container (spec 05 §6): a ZIP whose members are
 * stored, not compressed, written and read by this small module so backups
 * need no native library and any `unzip` can open them. Only what backups
 * use is supported: flat member names, no ZIP64 (members under 4 GiB), no
 * encryption. Members are streamed in 64 KiB pieces, so a large database
 * never sits whole in memory on a Pi; each member's CRC-32 and SHA-256 are
 * computed on the way, in and out.
 */

const CHUNK_BYTES = 64 * 1024;
const LOCAL_SIG = 0x04034b50;
const CENTRAL_SIG = 0x02014b50;
const END_SIG = 0x06054b50;
/** Bit 11: names are UTF-8. */
const FLAG_UTF8 = 0x0800;
/** ZIP's size fields are 32 bits; larger members would need ZIP64. */
const MAX_MEMBER_BYTES = 0xffff_ffff;
/** The end record is 22 bytes plus a comment of at most 65535. */
const END_SEARCH_BYTES = 22 + 0xffff;

/** The archive cannot be read as one of ours; nothing was written anywhere. */
export class ArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArchiveError";
  }
}

/** One member as the central directory lists it. */
export interface ZipEntry {
  name: string;
  size: number;
  crc32: number;
  /** Where the member's bytes start in the file. */
  dataOffset: number;
}

/** What a member's bytes hashed to. */
export interface MemberDigest {
  size: number;
  crc32: number;
  sha256: string;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crcUpdate(crc: number, bytes: Uint8Array): number {
  let c = crc ^ 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * An incremental SHA-256. `node:crypto` is imported only here and only when a
 * backup, restore or update runs: the server never loads Node's crypto layer
 * (see src/core/sha256.ts for why that matters).
 */
export async function sha256Stream(): Promise<{ update(b: Uint8Array): void; hex(): string }> {
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  return { update: (b) => hash.update(b), hex: () => hash.digest("hex") };
}

/** DOS date and time fields of `date` (local fields of UTC: archives name UTC times). */
function dosTime(date: Date): { time: number; date: number } {
  return {
    time: (date.getUTCHours() << 11) | (date.getUTCMinutes() << 5) | (date.getUTCSeconds() >> 1),
    date: ((date.getUTCFullYear() - 1980) << 9) | ((date.getUTCMonth() + 1) << 5) |
      date.getUTCDate(),
  };
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await file.write(bytes.subarray(done));
}

/** Writes a stored ZIP member by member; call {@linkcode ZipWriter.finish} last. */
export class ZipWriter {
  #file: Deno.FsFile;
  #offset = 0;
  #central: Uint8Array[] = [];
  #count = 0;
  #stamp: { time: number; date: number };

  private constructor(file: Deno.FsFile, at: Date) {
    this.#file = file;
    this.#stamp = dosTime(at);
  }

  /** Creates (or truncates) `path` with mode 0600: backups hold keys. */
  static async create(path: string, at: Date): Promise<ZipWriter> {
    const file = await Deno.open(path, { write: true, create: true, truncate: true, mode: 0o600 });
    return new ZipWriter(file, at);
  }

  /** Adds `bytes` as member `name`. */
  async addBytes(name: string, bytes: Uint8Array): Promise<MemberDigest> {
    return await this.#add(name, bytes.length, (sink) => sink(bytes));
  }

  /** Adds the file at `path` as member `name`, streamed. */
  async addFile(name: string, path: string): Promise<MemberDigest> {
    using src = await Deno.open(path, { read: true });
    const { size } = await src.stat();
    return await this.#add(name, size, async (sink) => {
      const buf = new Uint8Array(CHUNK_BYTES);
      for (;;) {
        const n = await src.read(buf);
        if (n === null) break;
        await sink(buf.subarray(0, n));
      }
    });
  }

  async #add(
    name: string,
    size: number,
    produce: (sink: (b: Uint8Array) => Promise<void>) => Promise<void>,
  ): Promise<MemberDigest> {
    if (size > MAX_MEMBER_BYTES) {
      throw new ArchiveError(`Cannot archive "${name}": ${size} bytes is over the 4 GiB limit`);
    }
    const nameBytes = new TextEncoder().encode(name);
    const start = this.#offset;
    const header = this.#header(LOCAL_SIG, 30, nameBytes, { crc: 0, size });
    await writeAll(this.#file, header);
    const hash = await sha256Stream();
    let crc = 0;
    let written = 0;
    await produce(async (b) => {
      crc = crcUpdate(crc, b);
      hash.update(b);
      written += b.length;
      await writeAll(this.#file, b);
    });
    if (written !== size) {
      throw new ArchiveError(`Cannot archive "${name}": it changed size while being read`);
    }
    // The CRC is known only now: patch it into the local header (offset 14).
    const crcBytes = new Uint8Array(4);
    new DataView(crcBytes.buffer).setUint32(0, crc, true);
    await this.#file.seek(start + 14, Deno.SeekMode.Start);
    await writeAll(this.#file, crcBytes);
    await this.#file.seek(0, Deno.SeekMode.End);
    this.#offset = start + header.length + size;
    this.#central.push(this.#header(CENTRAL_SIG, 46, nameBytes, { crc, size, offset: start }));
    this.#count++;
    return { size, crc32: crc, sha256: hash.hex() };
  }

  #header(
    sig: number,
    fixed: number,
    name: Uint8Array,
    m: { crc: number; size: number; offset?: number },
  ): Uint8Array {
    const out = new Uint8Array(fixed + name.length);
    const v = new DataView(out.buffer);
    v.setUint32(0, sig, true);
    // The central header has "version made by" (Unix, 2.0) before the common fields.
    const at = sig === CENTRAL_SIG ? 6 : 4;
    if (sig === CENTRAL_SIG) v.setUint16(4, (3 << 8) | 20, true);
    v.setUint16(at, 10, true); // version needed: 1.0, stored
    v.setUint16(at + 2, FLAG_UTF8, true);
    v.setUint16(at + 4, 0, true); // method: stored
    v.setUint16(at + 6, this.#stamp.time, true);
    v.setUint16(at + 8, this.#stamp.date, true);
    v.setUint32(at + 10, m.crc, true);
    v.setUint32(at + 14, m.size, true);
    v.setUint32(at + 18, m.size, true);
    v.setUint16(at + 22, name.length, true);
    if (sig === CENTRAL_SIG) {
      v.setUint32(38, (0o100600 << 16) >>> 0, true); // external attributes: a 0600 file
      v.setUint32(42, m.offset ?? 0, true);
    }
    out.set(name, fixed);
    return out;
  }

  /** Writes the central directory and the end record, then syncs and closes the file. */
  async finish(): Promise<void> {
    const cdStart = this.#offset;
    let cdSize = 0;
    for (const h of this.#central) {
      await writeAll(this.#file, h);
      cdSize += h.length;
    }
    const end = new Uint8Array(22);
    const v = new DataView(end.buffer);
    v.setUint32(0, END_SIG, true);
    v.setUint16(8, this.#count, true);
    v.setUint16(10, this.#count, true);
    v.setUint32(12, cdSize, true);
    v.setUint32(16, cdStart, true);
    await writeAll(this.#file, end);
    await this.#file.sync();
    this.#file.close();
  }

  /** Closes the file without finishing it (after a failure). */
  abort(): void {
    try {
      this.#file.close();
    } catch { /* already closed */ }
  }
}

async function readAt(file: Deno.FsFile, offset: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  await file.seek(offset, Deno.SeekMode.Start);
  let done = 0;
  while (done < length) {
    const n = await file.read(out.subarray(done));
    if (n === null) throw new ArchiveError("the archive is truncated");
    done += n;
  }
  return out;
}

/** Lists the members of the stored ZIP open as `file`; anything we would not write is refused. */
export async function readZipEntries(file: Deno.FsFile): Promise<ZipEntry[]> {
  const { size } = await file.stat();
  if (size < 22) throw new ArchiveError("the file is too short to be a ZIP archive");
  const tailLength = Math.min(size, END_SEARCH_BYTES);
  const tail = await readAt(file, size - tailLength, tailLength);
  const tv = new DataView(tail.buffer);
  let end = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === END_SIG) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new ArchiveError("no ZIP end record: not a ZIP archive, or truncated");
  const count = tv.getUint16(end + 10, true);
  const cdSize = tv.getUint32(end + 12, true);
  const cdStart = tv.getUint32(end + 16, true);
  if (cdStart + cdSize > size) throw new ArchiveError("the ZIP directory points past the file");
  const cd = await readAt(file, cdStart, cdSize);
  const v = new DataView(cd.buffer);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || v.getUint32(p, true) !== CENTRAL_SIG) {
      throw new ArchiveError("the ZIP directory is damaged");
    }
    const method = v.getUint16(p + 10, true);
    const flags = v.getUint16(p + 8, true);
    const crc32 = v.getUint32(p + 16, true);
    const packed = v.getUint32(p + 20, true);
    const length = v.getUint32(p + 24, true);
    const nameLength = v.getUint16(p + 28, true);
    const skip = nameLength + v.getUint16(p + 30, true) + v.getUint16(p + 32, true);
    const localOffset = v.getUint32(p + 42, true);
    const name = new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLength));
    if (method !== 0 || packed !== length || (flags & 1) !== 0) {
      throw new ArchiveError(`member "${name}" is compressed or encrypted; backups store members`);
    }
    const local = await readAt(file, localOffset, 30);
    const lv = new DataView(local.buffer);
    if (lv.getUint32(0, true) !== LOCAL_SIG) {
      throw new ArchiveError(`the header of member "${name}" is damaged`);
    }
    const dataOffset = localOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
    if (dataOffset + length > size) throw new ArchiveError(`member "${name}" is truncated`);
    entries.push({ name, size: length, crc32, dataOffset });
    p += 46 + skip;
  }
  return entries;
}

/**
 * Streams one member's bytes to `dest` (or only hashes them when `dest` is
 * undefined) and checks its CRC-32 against the directory.
 */
export async function extractEntry(
  file: Deno.FsFile,
  entry: ZipEntry,
  dest?: string,
): Promise<MemberDigest> {
  using out = dest === undefined
    ? undefined
    : await Deno.open(dest, { write: true, create: true, truncate: true, mode: 0o600 });
  const hash = await sha256Stream();
  let crc = 0;
  let left = entry.size;
  await file.seek(entry.dataOffset, Deno.SeekMode.Start);
  const buf = new Uint8Array(CHUNK_BYTES);
  while (left > 0) {
    const n = await file.read(buf.subarray(0, Math.min(left, buf.length)));
    if (n === null) throw new ArchiveError(`member "${entry.name}" is truncated`);
    const piece = buf.subarray(0, n);
    crc = crcUpdate(crc, piece);
    hash.update(piece);
    if (out !== undefined) await writeAll(out, piece);
    left -= n;
  }
  if (crc !== entry.crc32) {
    throw new ArchiveError(`member "${entry.name}" is damaged (its CRC-32 does not match)`);
  }
  await out?.sync();
  return { size: entry.size, crc32: crc, sha256: hash.hex() };
}
