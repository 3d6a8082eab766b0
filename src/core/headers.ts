/**
 * Request headers read once. On a request from `Deno.serve`, every
 * `Headers.get` is a call into the runtime (about 4 000 instructions each,
 * measured with `perf stat`), and the data plane asks for a dozen headers per
 * request: the key, the body length, the session headers, `connection`, then
 * all of them to forward. A snapshot reads the list once and answers the rest
 * from a plain object.
 */

/** What the data plane needs of request headers; `Headers` has this shape too. */
export interface HeaderReader {
  /** The value of `name`, or null; several values are joined with ", " like `Headers`. */
  get(name: string): string | null;
  /** Calls `fn` with each header's value and lowercase name. */
  forEach(fn: (value: string, name: string) => void): void;
}

/** A read-only copy of a request's headers. */
export class HeaderSnapshot implements HeaderReader {
  // A Map: a header named `__proto__` or `constructor` is just a header.
  readonly #values = new Map<string, string>();

  constructor(headers: Headers) {
    const values = this.#values;
    headers.forEach((value, name) => {
      values.set(name, value);
    });
  }

  get(name: string): string | null {
    return this.#values.get(name.toLowerCase()) ?? null;
  }

  forEach(fn: (value: string, name: string) => void): void {
    this.#values.forEach(fn);
  }
}
