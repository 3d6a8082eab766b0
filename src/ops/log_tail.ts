/** The last lines of a log file, for reporting why a background server failed. */

/** Bytes read from the end of the file; plenty for a few dozen lines. */
const TAIL_BYTES = 16 * 1024;

/** Returns up to `lines` last lines of `path` (empty when it cannot be read). */
export function tailLines(path: string, lines = 20): string[] {
  if (path === "/dev/null") return [];
  let file: Deno.FsFile | undefined;
  try {
    file = Deno.openSync(path, { read: true });
    const size = file.statSync().size;
    const start = Math.max(0, size - TAIL_BYTES);
    file.seekSync(start, Deno.SeekMode.Start);
    const buf = new Uint8Array(size - start);
    let read = 0;
    while (read < buf.length) {
      const n = file.readSync(buf.subarray(read));
      if (n === null || n === 0) break;
      read += n;
    }
    const text = new TextDecoder().decode(buf.subarray(0, read));
    const all = text.split("\n");
    if (start > 0) all.shift();
    if (all.at(-1) === "") all.pop();
    return all.slice(-lines);
  } catch {
    return [];
  } finally {
    file?.close();
  }
}
