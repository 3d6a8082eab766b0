/**
 * The client connection edge: EggPool accepts TCP connections itself and
 * hands each one to Deno's HTTP server, so that it can bound what a client
 * may hold.
 *
 * Why not `Deno.serve` alone (Deno 2.9): it has no header-read, idle or
 * connection-count limit, so a client that sends half a request line holds
 * its socket for ever; and when `accept` fails with EMFILE its accept loop
 * ends and `finished` rejects, which ends the process. Why not a byte pump in
 * front of it (TCP in, Unix socket to `Deno.serve`): it copies every byte
 * twice through JavaScript and spends three descriptors per client. Why not
 * `node:http`: Deno's version does not apply `headersTimeout` (a partial
 * header was held past it in a raw-socket test) and the app is written
 * against `Request`/`Response`.
 *
 * So: `Deno.listen` accepts, and the runtime's own per-connection HTTP
 * server (`serveHttpOnConnection`, the function `Deno.serve` is built from,
 * reached through `Deno[Deno.internal]`) serves each socket with no copy.
 * One handler closure per connection tells us when its requests start and
 * end, which is all the timeouts need:
 *
 * - header timeout: a connection that has not delivered a request's head
 *   within `header_timeout_s` of being accepted is closed;
 * - idle timeout: a keep-alive connection with no request for
 *   `idle_timeout_s` is closed gracefully (a partial head from a slow client
 *   counts as idle, so a slowloris on a reused connection is bounded too);
 * - the cap: past `max_connections` open sockets a new one gets a 503 and is
 *   closed; EMFILE on accept pauses the loop instead of ending it.
 *
 * The body timeout lives in `src/proxy/body.ts`, where the body is read.
 * Limits of this design: the idle clock starts when a handler returns its
 * Response, not when a streamed body ends, so a connection whose stream
 * outlasts `idle_timeout_s` is closed after that stream instead of kept
 * alive (the client reconnects); and a client that half-closes after its
 * request gets no answer, because the runtime's HTTP server treats the FIN
 * as the end of the connection. With `[server] half_close = true` each
 * socket goes through the relay in `half_close.ts`, which hides the FIN and
 * reports it here: the requests in flight finish, then the connection is
 * shut down gracefully.
 *
 * If a future Deno drops the internal function, {@linkcode serveGuarded}
 * falls back to plain `Deno.serve` and says so in the log.
 */

import { relay, SocketPairs } from "./half_close.ts";

/** A handler for one request; `remote` is the client's address. */
export type ConnHandler = (req: Request, remote: string) => Response | Promise<Response>;

/** Options for {@linkcode serveGuarded}. */
export interface GuardOptions {
  hostname: string;
  port: number;
  headerTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
  /** Relay every socket so that clients that half-close get their answer. */
  halfClose?: boolean;
  handler: ConnHandler;
  onError(error: unknown): Response;
  onListen(addr: Deno.NetAddr): void;
  log(message: string): void;
}

/** The subset of `Deno.HttpServer` the shutdown sequence uses. */
export interface GuardedServer {
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
  /** Open client connections (0 under the `Deno.serve` fallback). */
  readonly open: number;
}

/** What `serveHttpOnConnection` returns. */
interface ConnServer {
  finished: Promise<void>;
  shutdown(): Promise<void>;
}

type ServeOnConnection = (
  conn: Deno.Conn,
  signal: AbortSignal,
  handler: (req: Request) => Response | Promise<Response>,
  onError: (error: unknown) => Response | Promise<Response>,
  onListen: (scheme: string) => void,
) => ConnServer;

/** How long accept waits after EMFILE/ENFILE before trying again. */
export const ACCEPT_PAUSE_MS = 250;

/** One line per kind of trouble per minute at most: a flood must not flood the log. */
const LOG_EVERY_MS = 60_000;

const BUSY_REPLY = new TextEncoder().encode(
  "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n" +
    "content-length: 56\r\nconnection: close\r\n\r\n" +
    "Too many open connections; retry in a moment, please.\r\n\r\n",
);

const HEAD = 0;
const BUSY = 1;
const IDLE = 2;
const CLOSING = 3;

interface Conn {
  ac: AbortController;
  server?: ConnServer;
  phase: number;
  /** Requests whose handler has not returned yet. */
  active: number;
  /** When the current phase ends, on the guard's coarse clock. */
  deadline: number;
  /** Settles once the connection is closed and forgotten. */
  done?: Promise<void>;
  /** When a relayed client shut down its sending side (0: it has not). */
  eof: number;
}

/**
 * How long a relayed connection whose client has half-closed may stay with
 * no request running before it is shut down: long enough for the server to
 * read a request the client sent just before its FIN.
 */
const EOF_GRACE_MS = 1000;

/** Ends a connection once its running requests (and streams) are done. */
function closeGently(c: Conn): void {
  if (c.phase === CLOSING) return;
  c.phase = CLOSING;
  c.server?.shutdown().catch(() => c.ac.abort());
}

function internalServeOnConnection(): ServeOnConnection | undefined {
  const d = Deno as unknown as Record<symbol, Record<string, unknown> | undefined>;
  const internal = (Deno as unknown as { internal?: symbol }).internal;
  const fn = internal === undefined ? undefined : d[internal]?.serveHttpOnConnection;
  return typeof fn === "function" ? fn as ServeOnConnection : undefined;
}

function isFdExhaustion(error: unknown): boolean {
  const m = error instanceof Error ? error.message : String(error);
  return /os error 2[34]\b|Too many open files/.test(m);
}

/** Serves on `hostname:port` with the limits above; throws if it cannot listen. */
export function serveGuarded(o: GuardOptions): GuardedServer {
  const serveOn = internalServeOnConnection();
  if (!serveOn) return fallback(o);
  const listener = Deno.listen({ hostname: o.hostname, port: o.port, transport: "tcp" });
  let pairs: SocketPairs | undefined;
  try {
    pairs = o.halfClose ? SocketPairs.open() : undefined;
  } catch (error) {
    listener.close();
    throw error;
  }
  const conns = new Set<Conn>();
  const lastLog = new Map<string, number>();
  const note = (kind: string, message: string) => {
    const t = Date.now();
    if (t - (lastLog.get(kind) ?? -Infinity) < LOG_EVERY_MS) return;
    lastLog.set(kind, t);
    o.log(message);
  };
  // A coarse clock: one timer for every connection, instead of one per
  // connection or per request on the hot path.
  const tickMs = Math.max(20, Math.min(1000, Math.min(o.headerTimeoutMs, o.idleTimeoutMs) / 4));
  let now = Date.now();
  let stopping = false;
  let loopDone!: () => void;
  const loopFinished = new Promise<void>((r) => (loopDone = r));

  const sweep = setInterval(() => {
    now = Date.now();
    for (const c of conns) {
      if (c.eof && c.active === 0 && now >= c.eof + EOF_GRACE_MS) closeGently(c);
      if (c.phase === BUSY || c.phase === CLOSING || now < c.deadline) continue;
      if (c.phase === HEAD) {
        c.phase = CLOSING;
        c.ac.abort();
      } else if (c.active === 0) {
        closeGently(c);
      }
    }
  }, tickMs);
  Deno.unrefTimer(sweep);

  const start = (conn: Deno.TcpConn) => {
    const remote = conn.remoteAddr.hostname;
    try {
      conn.setNoDelay(true);
    } catch { /* a socket already reset by the peer: the server finds out */ }
    const c: Conn = {
      ac: new AbortController(),
      phase: HEAD,
      active: 0,
      deadline: now + o.headerTimeoutMs,
      eof: 0,
    };
    const ended = () => {
      if (--c.active === 0 && c.phase === BUSY) {
        c.phase = IDLE;
        c.deadline = now + o.idleTimeoutMs;
      }
    };
    const settle = (res: Response) => {
      ended();
      return res;
    };
    const fail = (error: unknown) => {
      ended();
      throw error;
    };
    const handler = (req: Request) => {
      c.active++;
      if (c.eof) closeGently(c); // the last request a half-closed client can send
      if (c.phase !== CLOSING) c.phase = BUSY;
      const r = o.handler(req, remote);
      return r instanceof Response ? settle(r) : r.then(settle, fail);
    };
    conns.add(c);
    const serve = (socket: Deno.Conn) => {
      c.server = serveOn(socket, c.ac.signal, handler, o.onError, () => {});
      return c.server.finished.catch((error) => {
        note("conn", `A client connection ended with an error: ${describe(error)}`);
      });
    };
    const couldNot = (error: unknown) => {
      note("serve", `Could not serve a connection: ${describe(error)}`);
      try {
        conn.close();
      } catch { /* taken or closed already */ }
    };
    if (!pairs) {
      try {
        c.done = serve(conn).finally(() => void conns.delete(c));
      } catch (error) {
        conns.delete(c);
        couldNot(error);
      }
      return;
    }
    c.done = pairs.pair().then(([inner, socket]) => {
      let served: Promise<void>;
      try {
        served = serve(socket);
      } catch (error) {
        inner.close();
        socket.close();
        throw error;
      }
      const relayed = relay(conn, inner, {
        clientDone() {
          c.eof = now;
          if (c.active > 0) closeGently(c);
        },
        clientFailed() {
          try {
            c.ac.abort();
          } catch { /* the connection's server has ended already */ }
        },
      });
      return Promise.all([served, relayed]).then(() => {});
    }).catch(couldNot).finally(() => void conns.delete(c));
  };

  const refuse = (conn: Deno.Conn) => {
    note(
      "cap",
      `Refusing connections: ${conns.size} are open, the cap is [server].max_connections = ` +
        `${o.maxConnections}; raise it (and the open-file limit) if this load is expected`,
    );
    conn.write(BUSY_REPLY).catch(() => {}).finally(() => {
      try {
        conn.close();
      } catch { /* closed already */ }
    });
  };

  (async () => {
    while (!stopping) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (stopping) break;
        if (isFdExhaustion(error)) {
          note(
            "emfile",
            `Out of file descriptors while accepting (${describe(error)}): pausing accept; ` +
              `lower [server].max_connections or raise the open-file limit (LimitNOFILE)`,
          );
        } else if (error instanceof Deno.errors.BadResource) {
          break; // the listener was closed
        } else {
          note("accept", `Accept failed: ${describe(error)}`);
        }
        await new Promise((r) => setTimeout(r, ACCEPT_PAUSE_MS));
        continue;
      }
      if (stopping) {
        conn.close();
        break;
      }
      if (conns.size >= o.maxConnections) refuse(conn);
      else start(conn);
    }
    loopDone();
  })();

  o.onListen(listener.addr as Deno.NetAddr);

  let shutdownPromise: Promise<void> | undefined;
  let finishedResolve!: () => void;
  const finished = new Promise<void>((r) => (finishedResolve = r));
  const allClosed = async () => {
    await loopFinished;
    await Promise.all([...conns].map((c) => c.done));
    clearInterval(sweep);
    pairs?.close();
    finishedResolve();
  };
  return {
    finished,
    get open() {
      return conns.size;
    },
    shutdown() {
      if (shutdownPromise) return shutdownPromise;
      stopping = true;
      try {
        listener.close();
      } catch { /* closed already */ }
      for (const c of conns) {
        c.phase = CLOSING;
        c.server?.shutdown().catch(() => c.ac.abort());
      }
      shutdownPromise = allClosed();
      return shutdownPromise;
    },
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Plain `Deno.serve`, for a runtime without the internal per-connection server. */
function fallback(o: GuardOptions): GuardedServer {
  o.log(
    "This Deno has no per-connection HTTP server: serving without the header/idle timeouts " +
      "and the connection cap ([server].max_connections)",
  );
  const server = Deno.serve({
    hostname: o.hostname,
    port: o.port,
    onListen: o.onListen,
    onError: o.onError,
  }, (req, info) => o.handler(req, info.remoteAddr.hostname));
  return { finished: server.finished, shutdown: () => server.shutdown(), open: 0 };
}
