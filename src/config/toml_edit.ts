/**
 * In-place edits of a TOML config (issue #16): every command that changes the
 * config rewrites only the lines it touches, so the operator's comments, blank
 * lines and key order survive. Each edit is checked with the real parser: the
 * edited text must parse to exactly the old document with the one intended
 * change, or the edit is refused ({@linkcode TomlEditError}) and nothing is
 * written. Layouts the line editor cannot follow (a table written inline, say)
 * end up there too, with a message that says to edit by hand.
 */
import { isDeepStrictEqual } from "node:util";
import { parse } from "smol-toml";
import {
  formatKeyPart,
  formatString,
  type HeaderStatement,
  scanToml,
  type Statement,
  TomlScanError,
} from "./_toml_scan.ts";

/** A value the editor can write. */
export type TomlValue = string | number | boolean | readonly TomlValue[] | TomlTable;
/** A table the editor can write; key order is kept. */
export interface TomlTable {
  readonly [key: string]: TomlValue;
}

/** An edit that cannot be made in place; nothing was changed. */
export class TomlEditError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TomlEditError";
  }
}

/** Sets `key` in the table at `table` (`[]` for the root), adding the key or the table if needed. */
export function setValue(
  text: string,
  table: readonly string[],
  key: string,
  value: TomlValue,
): string {
  const doc = new Doc(text);
  const range = doc.tableRange(table);
  let out: string;
  if (range === undefined) {
    const header = `[${table.map(formatKeyPart).join(".")}]`;
    out = doc.appendLines(["", header, `${formatKeyPart(key)} = ${formatValue(value)}`]);
  } else {
    const pair = range.pairs.find((p) => p.key.length === 1 && p.key[0] === key);
    if (pair !== undefined) {
      out = text.slice(0, pair.valueStart) + formatValue(value) + text.slice(pair.valueEnd);
    } else {
      const after = range.pairs.at(-1);
      const indent = after === undefined ? "" : /^[ \t]*/.exec(doc.lines[after.line])![0];
      out = doc.insertAfter(after?.endLine ?? range.headerLine, [
        `${indent}${formatKeyPart(key)} = ${formatValue(value)}`,
      ], false);
    }
  }
  return checked(text, out, (d) => {
    const t = tableAt(d, table, true);
    t[key] = plain(value);
  });
}

/**
 * Appends one element to the array of tables at `path` (such as
 * `["providers", "groq", "accounts"]`), after the last section that belongs to
 * the array's parent, or at the end of the file. `comment` lines go above it.
 */
export function appendArrayTable(
  text: string,
  path: readonly string[],
  entry: TomlTable,
  comment: readonly string[] = [],
): string {
  const doc = new Doc(text);
  const block = ["", ...comment.map((c) => `# ${c}`), ...formatTables(path, entry, true)];
  const last = doc.lastLineUnder(path.slice(0, -1));
  const out = last === undefined ? doc.appendLines(block) : doc.insertAfter(last, block);
  return checked(text, out, (d) => {
    const parent = tableAt(d, path.slice(0, -1), true);
    const name = path.at(-1)!;
    const list = parent[name] ?? [];
    if (!Array.isArray(list)) throw new TomlEditError(`${path.join(".")} is not an array`);
    list.push(plain(entry));
    parent[name] = list;
  });
}

/** Adds the table `path` with `body` (subtables become their own sections) at the end of the file. */
export function appendTable(
  text: string,
  path: readonly string[],
  body: TomlTable,
  comment: readonly string[] = [],
): string {
  const doc = new Doc(text);
  const block = ["", ...comment.map((c) => `# ${c}`), ...formatTables(path, body, false)];
  const out = doc.appendLines(block);
  return checked(text, out, (d) => {
    const parent = tableAt(d, path.slice(0, -1), true);
    if (parent[path.at(-1)!] !== undefined) {
      throw new TomlEditError(`${path.join(".")} already exists`);
    }
    parent[path.at(-1)!] = plain(body);
  });
}

/** Removes element `index` of the array of tables at `path`, with its sub-sections. */
export function removeArrayElement(text: string, path: readonly string[], index: number): string {
  const doc = new Doc(text);
  const headers = doc.statements.filter((s): s is HeaderStatement =>
    s.kind === "header" && s.array && samePath(s.path, path)
  );
  const header = headers[index];
  if (header === undefined) {
    throw new TomlEditError(
      `${path.join(".")} element ${index} is not written as a [[${path.join(".")}]] section`,
    );
  }
  const at = doc.statements.indexOf(header);
  let endAt = at;
  for (let i = at + 1; i < doc.statements.length; i++) {
    const s = doc.statements[i];
    if (s.kind === "header" && (s.array && samePath(s.path, path) || !startsWith(s.path, path))) {
      break;
    }
    endAt = i;
  }
  const out = doc.removeSpan(at, endAt);
  return checked(text, out, (d) => {
    const list = tableAt(d, path.slice(0, -1), false)?.[path.at(-1)!];
    if (!Array.isArray(list)) throw new TomlEditError(`${path.join(".")} is not an array`);
    list.splice(index, 1);
    // An array of tables with no sections left is no key at all.
    if (list.length === 0) delete tableAt(d, path.slice(0, -1), false)![path.at(-1)!];
  });
}

/** Removes the table at `path` and every section under it (a provider and its accounts). */
export function removeTable(text: string, path: readonly string[]): string {
  const doc = new Doc(text);
  const spans: Array<[number, number]> = [];
  let open: [number, number] | undefined;
  doc.statements.forEach((s, i) => {
    if (s.kind !== "header") {
      if (open) open[1] = i;
      return;
    }
    if (startsWith(s.path, path)) {
      if (open) open[1] = i;
      else open = [i, i];
    } else if (open) {
      spans.push(open);
      open = undefined;
    }
  });
  if (open) spans.push(open);
  if (spans.length === 0) {
    throw new TomlEditError(`${path.join(".")} is not written as a [${path.join(".")}] section`);
  }
  let out = text;
  for (const [from, to] of spans.reverse()) out = new Doc(out).removeSpan(from, to, true);
  return checked(text, out, (d) => {
    const parent = tableAt(d, path.slice(0, -1), false);
    if (parent === undefined || parent[path.at(-1)!] === undefined) {
      throw new TomlEditError(`${path.join(".")} does not exist`);
    }
    delete parent[path.at(-1)!];
  });
}

/** A value as TOML writes it on one line. */
export function formatValue(value: TomlValue): string {
  if (typeof value === "string") return formatString(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TomlEditError("cannot write a non-finite number");
    return String(value);
  }
  if (typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(formatValue).join(", ")}]`;
  const entries = Object.entries(value as TomlTable);
  if (entries.length === 0) return "{}";
  return `{ ${entries.map(([k, v]) => `${formatKeyPart(k)} = ${formatValue(v)}`).join(", ")} }`;
}

/** Section lines for `body` at `path`: scalars first, then subtables and arrays of tables. */
function formatTables(path: readonly string[], body: TomlTable, array: boolean): string[] {
  const name = path.map(formatKeyPart).join(".");
  const lines = [array ? `[[${name}]]` : `[${name}]`];
  const nested: string[] = [];
  for (const [k, v] of Object.entries(body)) {
    if (isTable(v)) {
      nested.push("", ...formatTables([...path, k], v, false));
    } else if (Array.isArray(v) && v.length > 0 && v.every(isTable)) {
      for (const item of v) nested.push("", ...formatTables([...path, k], item as TomlTable, true));
    } else {
      lines.push(`${formatKeyPart(k)} = ${formatValue(v)}`);
    }
  }
  return [...lines, ...nested];
}

function isTable(v: unknown): v is TomlTable {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The file as lines plus its statements. */
class Doc {
  readonly text: string;
  readonly lines: string[];
  readonly eol: string;
  readonly statements: Statement[];

  constructor(text: string) {
    this.text = text;
    this.lines = text.split("\n");
    this.eol = text.includes("\r\n") ? "\r\n" : "\n";
    try {
      this.statements = scanToml(text);
    } catch (error) {
      if (error instanceof TomlScanError) {
        throw new TomlEditError(`cannot edit the config in place (${error.message})`);
      }
      throw error;
    }
  }

  /** The pairs of the table at `path`, when it has a header (or is the root). */
  tableRange(
    path: readonly string[],
  ): { headerLine: number; pairs: Extract<Statement, { kind: "pair" }>[] } | undefined {
    let inside = path.length === 0;
    let headerLine = -1;
    let found = path.length === 0;
    const pairs: Extract<Statement, { kind: "pair" }>[] = [];
    for (const s of this.statements) {
      if (s.kind === "header") {
        inside = !s.array && samePath(s.path, path);
        if (inside) {
          found = true;
          headerLine = s.line;
        }
      } else if (inside) pairs.push(s);
    }
    return found ? { headerLine, pairs } : undefined;
  }

  /** The last statement line of any section at or under `prefix`. */
  lastLineUnder(prefix: readonly string[]): number | undefined {
    let inside = false;
    let last: number | undefined;
    for (const s of this.statements) {
      if (s.kind === "header") inside = startsWith(s.path, prefix);
      if (inside) last = s.kind === "header" ? s.line : s.endLine;
    }
    return last;
  }

  /** Inserts `block` after `line`; a spaced block gets a blank line before what follows. */
  insertAfter(line: number, block: readonly string[], spaced = true): string {
    const cr = this.eol === "\r\n" ? "\r" : "";
    const next = this.lines[line + 1];
    const tail = spaced && next !== undefined && next.trim() !== "" ? [""] : [];
    const added = [...block, ...tail].map((l) => l + cr);
    return [...this.lines.slice(0, line + 1), ...added, ...this.lines.slice(line + 1)].join("\n");
  }

  appendLines(block: readonly string[]): string {
    let body = this.text;
    if (body !== "" && !body.endsWith("\n")) body += this.eol;
    const lines = body.trim() === "" ? block.filter((l, i) => i > 0 || l !== "") : block;
    return body + lines.join(this.eol) + this.eol;
  }

  /**
   * Removes statements `from`..`to` (a header and what follows it), with the
   * comment paragraph right above the header and one blank line, so the file
   * keeps its spacing. With `trailing`, comment lines right below the span
   * (no blank line between) go too.
   */
  removeSpan(from: number, to: number, trailing = false): string {
    const first = this.statements[from];
    const last = this.statements[to];
    let start = first.line;
    let end = last.kind === "header" ? last.line : last.endLine;
    while (trailing && this.lines[end + 1]?.trim().startsWith("#")) end++;
    let i = start - 1;
    while (i >= 0 && this.lines[i].trim().startsWith("#")) i--;
    // Only a paragraph of its own (a blank line or the file start above it) is the section's.
    if (i < 0 || this.lines[i].trim() === "") start = i + 1;
    const blank = (n: number) => n < 0 || n >= this.lines.length || this.lines[n].trim() === "";
    if (start > 0 && blank(start - 1) && blank(end + 1)) start--;
    return [...this.lines.slice(0, start), ...this.lines.slice(end + 1)].join("\n");
  }
}

function samePath(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function startsWith(a: readonly string[], prefix: readonly string[]): boolean {
  return a.length >= prefix.length && prefix.every((x, i) => x === a[i]);
}

type Table = Record<string, unknown>;

function tableAt(doc: Table, path: readonly string[], create: true): Table;
function tableAt(doc: Table, path: readonly string[], create: false): Table | undefined;
function tableAt(doc: Table, path: readonly string[], create: boolean): Table | undefined {
  let t = doc;
  for (const part of path) {
    let next = t[part];
    if (next === undefined && create) t[part] = next = {};
    if (next === null || typeof next !== "object" || Array.isArray(next)) {
      if (!create) return undefined;
      throw new TomlEditError(`${path.join(".")} is not a table`);
    }
    t = next as Table;
  }
  return t;
}

/**
 * Plain objects and dates as text, so parsed (null-prototype) and built values
 * compare; empty tables are dropped (`[providers]` left without providers
 * parses as no key at all when it had no header of its own).
 */
function normalize(v: unknown): unknown {
  if (v instanceof Date) return `date:${String(v)}`;
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const n = normalize(x);
      const empty = n !== null && typeof n === "object" && !Array.isArray(n) &&
        Object.keys(n).length === 0;
      if (!empty) out[k] = n;
    }
    return out;
  }
  return v;
}

function plain(v: TomlValue): unknown {
  return structuredClone(v);
}

/**
 * Returns `after` when it parses to `before` with `change` applied; otherwise
 * refuses the edit.
 */
function checked(before: string, after: string, change: (doc: Table) => void): string {
  const expected = parse(before) as Table;
  change(expected);
  let actual: unknown;
  try {
    actual = parse(after);
  } catch {
    throw new TomlEditError(
      "cannot edit the config in place: the change would not be valid TOML here " +
        "(a table written inline or as dotted keys?); make it by hand with 'eggpool edit'",
    );
  }
  if (!isDeepStrictEqual(normalize(actual), normalize(expected))) {
    throw new TomlEditError(
      "cannot edit the config in place: the file's layout hides where the change belongs " +
        "(a table written inline or as dotted keys?); make it by hand with 'eggpool edit'",
    );
  }
  return after;
}
