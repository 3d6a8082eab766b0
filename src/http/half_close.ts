/**
 * Answering clients that half-close (`[server] half_close = true`).
 *
 * A client may send its request and then shut down its sending side (a TCP
 * FIN) while it waits for the answer; HTTP/1.1 says that does not mean it
 * lost interest. Deno's HTTP server takes the FIN as the end of the
 * connection and drops the answer, and offers no switch for it. So, when the
 * operator asks for it, each client socket is relayed through a private
 * Unix socket pair: the server end goes to the HTTP server, and the relay
 * never passes the client's FIN on. Instead it tells the connection guard,
 * which lets the request in flight finish and then closes the connection
 * (a graceful shutdown of that connection's server).
 *
 * The price is a copy of every byte through JavaScript and three file
 * descriptors per client instead of one (measured in docs/reliability.md),
 * which is why it is off by default: no SDK, agent or `curl` half-closes.
 */

import { CliError } from "../core/errors.ts";

const PREFIX = "eggpool-relay-";
const ORPHAN_NAME = new RegExp(`^${PREFIX}(\\d+)-`);

function tempRoot(): string {
  return Deno.env.get("TMPDIR") || "/tmp";
}

/**
 * Removes `eggpool-relay-<pid>-*` directories in `root` whose process is no
 * longer running (Linux: no `/proc/<pid>`) and whose socket no longer
 * answers (a process of another PID namespace may share the directory).
 * Best effort: what cannot be read or removed (another user's) is left.
 */
export async function removeOrphans(root: string): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(root)];
  } catch {
    return;
  }
  for (const e of entries) {
    const m = e.isDirectory ? ORPHAN_NAME.exec(e.name) : null;
    if (m === null || processExists(Number(m[1]))) continue;
    const dir = `${root}/${e.name}`;
    try {
      (await Deno.connect({ transport: "unix", path: `${dir}/s` })).close();
      continue; // someone still listens there
    } catch { /* refused or gone: an orphan */ }
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* not ours, or gone */ }
  }
}

function processExists(pid: number): boolean {
  if (Deno.build.os !== "linux") return true; // cannot tell: keep it
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Makes connected Unix socket pairs on a listener only this process can reach. */
export class SocketPairs {
  #listener: Deno.UnixListener;
  #dir: string;
  #path: string;
  /** Pairs are made one at a time, so each accept belongs to its connect. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(dir: string, path: string, listener: Deno.UnixListener) {
    this.#dir = dir;
    this.#path = path;
    this.#listener = listener;
  }

  /**
   * Opens the listener in a fresh private directory named after this
   * process, and removes the directories of relays whose process is gone (a
   * kill -9 leaves its directory behind).
   */
  static open(): SocketPairs {
    let dir: string | undefined;
    try {
      removeOrphans(tempRoot()).catch(() => {}); // in the background: nothing waits for it
      dir = Deno.makeTempDirSync({ prefix: `${PREFIX}${Deno.pid}-` });
      Deno.chmodSync(dir, 0o700);
      const path = `${dir}/s`;
      return new SocketPairs(dir, path, Deno.listen({ transport: "unix", path }));
    } catch (error) {
      if (dir) Deno.removeSync(dir, { recursive: true });
      const why = error instanceof Error ? error.message : String(error);
      throw new CliError(
        `[server] half_close needs a Unix socket in the temporary directory ` +
          `(TMPDIR, else /tmp), which failed: ${why}. Point TMPDIR at a writable directory ` +
          `or set half_close = false`,
      );
    }
  }

  /** A connected pair: `[client end, server end]`. */
  pair(): Promise<[Deno.UnixConn, Deno.UnixConn]> {
    const made = this.#queue.then(async () => {
      const accepted = this.#listener.accept();
      let client: Deno.UnixConn;
      try {
        client = await Deno.connect({ transport: "unix", path: this.#path });
      } catch (error) {
        accepted.then((c) => c.close(), () => {});
        throw error;
      }
      return [client, await accepted] as [Deno.UnixConn, Deno.UnixConn];
    });
    this.#queue = made.catch(() => {});
    return made;
  }

  close(): void {
    try {
      this.#listener.close();
    } catch { /* closed already */ }
    try {
      Deno.removeSync(this.#dir, { recursive: true });
    } catch { /* gone already */ }
  }
}

/** What {@linkcode relay} reports back to the connection guard. */
export interface RelayEvents {
  /** The client shut down its sending side; the connection should end after its answers. */
  clientDone(): void;
  /** The client's side failed (a reset): the connection should end now. */
  clientFailed(): void;
}

/**
 * Copies bytes both ways between the client socket and the client end of a
 * pair until the server side closes; closes both sockets at the end. The
 * loops read and write by hand: a socket's `readable` closes the whole
 * socket at its end, which would drop the answer the relay is there for.
 */
export async function relay(
  client: Deno.TcpConn,
  inner: Deno.UnixConn,
  events: RelayEvents,
): Promise<void> {
  let ended = false;
  const up = copy(client, inner, 16_384).then(
    () => ended || events.clientDone(),
    // After the end below, this read fails because the relay closed the socket.
    () => ended || events.clientFailed(),
  );
  // Either side going away ends both.
  await copy(inner, client, 65_536).catch(() => {});
  ended = true;
  for (const c of [client, inner]) {
    try {
      c.close();
    } catch { /* closed already */ }
  }
  await up;
}

/** Smallest read buffer: an idle connection (a flood of them) holds no more than this per side. */
const FIRST_BUFFER = 2048;

/**
 * Copies `from` to `to` until `from` ends. The read buffer starts small and
 * doubles, up to `largest`, each time a read fills it.
 */
async function copy(from: Deno.Conn, to: Deno.Conn, largest: number): Promise<void> {
  let buf = new Uint8Array(FIRST_BUFFER);
  for (;;) {
    const n = await from.read(buf);
    if (n === null) return;
    let off = 0;
    while (off < n) off += await to.write(buf.subarray(off, n));
    if (n === buf.length && buf.length < largest) buf = new Uint8Array(buf.length * 2);
  }
}
