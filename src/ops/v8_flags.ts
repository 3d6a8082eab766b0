/**
 * The V8 settings the server runs with (issue #3: peak RSS on a Pi).
 *
 * By default V8 lets the young generation grow to two 32 MB semi-spaces and
 * the old generation to about four times its live size before a full
 * collection, which is cheap on a desktop and most of EggPool's memory on a
 * small board: under a sustained load the heap held 110-130 MB of which about
 * 20 MB was live. Capping the semi-spaces and the growth factor keeps the peak
 * near the live size for a few percent more instructions per request.
 *
 * `--no-maglev` leaves hot code to TurboFan instead of V8's mid-tier compiler:
 * once warm, the server executes fewer instructions per request and promotes
 * about a third less to the old generation (peak RSS 129 -> 116 MB in the same
 * bench), for a slower first few thousand requests after a start. A server
 * runs for days, so that is the trade it wants. The numbers behind each flag
 * are in docs/performance.md.
 *
 * None of them is a hard limit: a burst of large bodies still gets the heap
 * it needs (a `--max-old-space-size` cap would end the process instead).
 *
 * They reach the server three ways: `deno task compile` bakes them into the
 * binaries, `deno task serve` passes them, and a server started from source
 * or a bundle by `serve --daemon`, `ensure-running`, cron or systemd gets them
 * from {@linkcode withServerV8Flags}.
 */

/** The V8 flags, comma-separated as `--v8-flags=` takes them. */
export const SERVER_V8_FLAGS = "--max-semi-space-size=8,--heap-growing-percent=50,--no-maglev";

/** The Deno command-line flag that applies {@linkcode SERVER_V8_FLAGS}. */
export const SERVER_V8_FLAG = `--v8-flags=${SERVER_V8_FLAGS}`;

/**
 * Adds {@linkcode SERVER_V8_FLAG} to the Deno arguments of a `deno run` line
 * (`["run", ...flags]`, without the executable and the script) unless the
 * line already sets V8 flags of its own.
 */
export function withServerV8Flags(denoArgs: readonly string[]): string[] {
  if (denoArgs.some((a) => a === "--v8-flags" || a.startsWith("--v8-flags="))) {
    return [...denoArgs];
  }
  const run = denoArgs.indexOf("run");
  if (run < 0) return [...denoArgs];
  return [...denoArgs.slice(0, run + 1), SERVER_V8_FLAG, ...denoArgs.slice(run + 1)];
}
