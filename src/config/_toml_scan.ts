/**
 * A light scanner for TOML text that finds where each table header and each
 * `key = value` statement sits, without building values. The in-place editor
 * (`toml_edit.ts`) uses it to change only the lines an edit touches; it checks
 * every result with the real parser, so this only has to be right about
 * boundaries: strings (all four kinds), arrays and inline tables spanning
 * lines, and comments.
 */

/** A `[table]` or `[[array.of.tables]]` line. */
export interface HeaderStatement {
  kind: "header";
  path: string[];
  array: boolean;
  /** 0-based line of the header. */
  line: number;
}

/** A `key = value` statement, which may span several lines. */
export interface PairStatement {
  kind: "pair";
  key: string[];
  line: number;
  endLine: number;
  /** Offsets of the value text in the file. */
  valueStart: number;
  valueEnd: number;
}

/** One statement of the file, in order. */
export type Statement = HeaderStatement | PairStatement;

/** The scanner could not follow the file; the message names the line. */
export class TomlScanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TomlScanError";
  }
}

const BARE = /[A-Za-z0-9_-]/;

/** Finds every statement of `text`. */
export function scanToml(text: string): Statement[] {
  const s = new Scanner(text);
  const out: Statement[] = [];
  while (s.pos < text.length) {
    s.skipSpaces();
    const c = text[s.pos];
    if (c === undefined) break;
    if (c === "\n" || c === "\r") {
      s.pos++;
      continue;
    }
    if (c === "#") {
      s.skipComment();
      continue;
    }
    const line = s.lineAt(s.pos);
    if (c === "[") {
      const array = text[s.pos + 1] === "[";
      s.pos += array ? 2 : 1;
      const path = s.readKey();
      s.expect(array ? "]]" : "]");
      s.endOfLine();
      out.push({ kind: "header", path, array, line });
      continue;
    }
    const key = s.readKey();
    s.expect("=");
    s.skipSpaces();
    const valueStart = s.pos;
    s.readValue();
    const valueEnd = s.pos;
    s.endOfLine();
    out.push({ kind: "pair", key, line, endLine: s.lineAt(valueEnd), valueStart, valueEnd });
  }
  return out;
}

class Scanner {
  pos = 0;
  readonly #text: string;
  readonly #lineStarts: number[] = [0];

  constructor(text: string) {
    this.#text = text;
    for (let i = 0; i < text.length; i++) if (text[i] === "\n") this.#lineStarts.push(i + 1);
  }

  lineAt(offset: number): number {
    let lo = 0;
    let hi = this.#lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  fail(what: string): never {
    throw new TomlScanError(`line ${this.lineAt(this.pos) + 1}: ${what}`);
  }

  skipSpaces(): void {
    while (this.#text[this.pos] === " " || this.#text[this.pos] === "\t") this.pos++;
  }

  skipComment(): void {
    while (this.pos < this.#text.length && this.#text[this.pos] !== "\n") this.pos++;
  }

  expect(token: string): void {
    this.skipSpaces();
    if (!this.#text.startsWith(token, this.pos)) this.fail(`expected "${token}"`);
    this.pos += token.length;
  }

  /** After a statement: spaces, an optional comment, then a newline or the end. */
  endOfLine(): void {
    this.skipSpaces();
    if (this.#text[this.pos] === "#") this.skipComment();
    if (this.#text[this.pos] === "\r") this.pos++;
    if (this.pos < this.#text.length && this.#text[this.pos] !== "\n") {
      this.fail("unexpected text after a statement");
    }
  }

  readKey(): string[] {
    const parts: string[] = [];
    for (;;) {
      this.skipSpaces();
      const c = this.#text[this.pos];
      if (c === '"') parts.push(this.readBasic());
      else if (c === "'") parts.push(this.readLiteral());
      else {
        const start = this.pos;
        while (this.pos < this.#text.length && BARE.test(this.#text[this.pos])) this.pos++;
        if (this.pos === start) this.fail("expected a key");
        parts.push(this.#text.slice(start, this.pos));
      }
      this.skipSpaces();
      if (this.#text[this.pos] !== ".") return parts;
      this.pos++;
    }
  }

  readValue(): void {
    const t = this.#text;
    const c = t[this.pos];
    if (t.startsWith('"""', this.pos)) return this.readMultiline('"""');
    if (t.startsWith("'''", this.pos)) return this.readMultiline("'''");
    if (c === '"') return void this.readBasic();
    if (c === "'") return void this.readLiteral();
    if (c === "[" || c === "{") return this.readNested();
    const start = this.pos;
    while (this.pos < t.length && !"#\n\r,]}".includes(t[this.pos])) this.pos++;
    // A scalar (number, bool, date) ends before trailing spaces.
    while (this.pos > start && (t[this.pos - 1] === " " || t[this.pos - 1] === "\t")) this.pos--;
    if (this.pos === start) this.fail("expected a value");
  }

  readNested(): void {
    const t = this.#text;
    let depth = 0;
    while (this.pos < t.length) {
      const c = t[this.pos];
      if (c === "[" || c === "{") {
        depth++;
        this.pos++;
      } else if (c === "]" || c === "}") {
        depth--;
        this.pos++;
        if (depth === 0) return;
      } else if (c === "#") this.skipComment();
      else if (c === '"' || c === "'") this.readValue();
      else this.pos++;
    }
    this.fail("an array or inline table is never closed");
  }

  readMultiline(delim: string): void {
    const t = this.#text;
    this.pos += 3;
    while (this.pos < t.length) {
      if (delim === '"""' && t[this.pos] === "\\") {
        this.pos += 2;
        continue;
      }
      if (t.startsWith(delim, this.pos)) {
        this.pos += 3;
        // Up to two quotes may end the content right before the delimiter.
        for (let i = 0; i < 2 && t[this.pos] === delim[0]; i++) this.pos++;
        return;
      }
      this.pos++;
    }
    this.fail("a multi-line string is never closed");
  }

  readBasic(): string {
    const t = this.#text;
    const start = this.pos;
    this.pos++;
    while (this.pos < t.length && t[this.pos] !== '"' && t[this.pos] !== "\n") {
      if (t[this.pos] === "\\") this.pos++;
      this.pos++;
    }
    if (t[this.pos] !== '"') this.fail("a string is never closed");
    this.pos++;
    return decodeBasic(t.slice(start + 1, this.pos - 1));
  }

  readLiteral(): string {
    const t = this.#text;
    const start = this.pos + 1;
    const end = t.indexOf("'", start);
    if (end < 0 || t.slice(start, end).includes("\n")) this.fail("a string is never closed");
    this.pos = end + 1;
    return t.slice(start, end);
  }
}

const ESCAPES: Record<string, string> = {
  b: "\b",
  t: "\t",
  n: "\n",
  f: "\f",
  r: "\r",
  e: "\x1b",
  '"': '"',
  "\\": "\\",
};

function decodeBasic(s: string): string {
  return s.replace(/\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|x[0-9A-Fa-f]{2}|.)/g, (_, e: string) => {
    if (e.length > 1) return String.fromCodePoint(parseInt(e.slice(1), 16));
    return ESCAPES[e] ?? e;
  });
}

/** A key part as TOML writes it: bare when it can be, quoted otherwise. */
export function formatKeyPart(part: string): string {
  return /^[A-Za-z0-9_-]+$/.test(part) ? part : formatString(part);
}

/** A TOML basic string holding `s`. */
export function formatString(s: string): string {
  // JSON's escapes are a subset of TOML's basic-string escapes; DEL needs one too.
  return JSON.stringify(s).replaceAll("\x7f", "\\u007F");
}
