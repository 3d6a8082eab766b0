/**
 * Maps key paths to 1-based lines of a TOML file, so error messages can say
 * where a key lives. This is a line scanner, not a parser: it only has to be
 * right for files the real parser accepted. Keys inside single-line inline
 * tables resolve to the line of their parent key.
 */

import { formatKeyPath } from "./_key_path.ts";
import type { PathSegment } from "./_key_path.ts";

/** Finds the line of a key path, falling back to its nearest located parent. */
export type LineLocator = (segments: readonly PathSegment[]) => number | undefined;

interface ValueScan {
  path: PathSegment[];
  stack: string[];
  quote: string | null;
  nextIndex: number;
}

/** Builds a {@linkcode LineLocator} for the given file text. */
export function buildLineLocator(text: string): LineLocator {
  const lines = new Map<string, number>();
  const arrayIndex = new Map<string, number>();
  let table: PathSegment[] = [];
  let pending: ValueScan | null = null;

  const record = (path: readonly PathSegment[], line: number) => {
    for (let n = 1; n <= path.length; n++) {
      const key = formatKeyPath(path.slice(0, n));
      if (!lines.has(key)) lines.set(key, line);
    }
  };

  const rows = text.split(/\r?\n/);
  for (let i = 0; i < rows.length; i++) {
    const lineNo = i + 1;
    const row = rows[i];
    if (pending) {
      if (scanValue(row, 0, pending, lineNo, record)) pending = null;
      continue;
    }
    const s = row.trimStart();
    if (s === "" || s.startsWith("#")) continue;
    if (s.startsWith("[")) {
      const isArray = s.startsWith("[[");
      const keys = parseKeys(s, isArray ? 2 : 1, isArray ? "]]" : "]");
      if (!keys) continue;
      table = resolveHeader(keys.segments, isArray, arrayIndex);
      record(table, lineNo);
      continue;
    }
    const keys = parseKeys(s, 0, "=");
    if (!keys) continue;
    const path = [...table, ...keys.segments];
    record(path, lineNo);
    const scan: ValueScan = { path, stack: [], quote: null, nextIndex: 0 };
    if (!scanValue(s, keys.end + 1, scan, lineNo, record)) pending = scan;
  }

  return (segments) => {
    for (let n = segments.length; n > 0; n--) {
      const line = lines.get(formatKeyPath(segments.slice(0, n)));
      if (line !== undefined) return line;
    }
    return undefined;
  };
}

function resolveHeader(
  keys: readonly string[],
  isArray: boolean,
  arrayIndex: Map<string, number>,
): PathSegment[] {
  const out: PathSegment[] = [];
  keys.forEach((k, idx) => {
    out.push(k);
    const key = formatKeyPath(out);
    if (isArray && idx === keys.length - 1) {
      const n = (arrayIndex.get(key) ?? -1) + 1;
      arrayIndex.set(key, n);
      out.push(n);
    } else {
      const current = arrayIndex.get(key);
      if (current !== undefined) out.push(current);
    }
  });
  return out;
}

/** Reads dotted keys from `pos` up to `terminator`; `end` is the terminator's index. */
function parseKeys(
  s: string,
  start: number,
  terminator: string,
): { segments: string[]; end: number } | null {
  const segments: string[] = [];
  let pos = start;
  while (true) {
    while (s[pos] === " " || s[pos] === "\t") pos++;
    const ch = s[pos];
    if (ch === '"' || ch === "'") {
      const close = findClose(s, pos + 1, ch);
      if (close < 0) return null;
      segments.push(unquote(s.slice(pos, close + 1), ch));
      pos = close + 1;
    } else {
      const m = /^[A-Za-z0-9_-]+/.exec(s.slice(pos));
      if (!m) return null;
      segments.push(m[0]);
      pos += m[0].length;
    }
    while (s[pos] === " " || s[pos] === "\t") pos++;
    if (s[pos] === ".") {
      pos++;
      continue;
    }
    return s.startsWith(terminator, pos) ? { segments, end: pos } : null;
  }
}

function findClose(s: string, from: number, quote: string): number {
  for (let j = from; j < s.length; j++) {
    if (quote === '"' && s[j] === "\\") {
      j++;
      continue;
    }
    if (s[j] === quote) return j;
  }
  return -1;
}

function unquote(quoted: string, quote: string): string {
  if (quote === "'") return quoted.slice(1, -1);
  try {
    return JSON.parse(quoted);
  } catch {
    return quoted.slice(1, -1);
  }
}

/**
 * Scans a value from `pos`, tracking brackets and strings across lines.
 * Inline tables directly inside an array are located as `path[index]`.
 * Returns true once the value is complete.
 */
function scanValue(
  s: string,
  pos: number,
  st: ValueScan,
  lineNo: number,
  record: (path: readonly PathSegment[], line: number) => void,
): boolean {
  let i = pos;
  while (i < s.length) {
    if (st.quote) {
      const close = s.indexOf(st.quote, i);
      if (close < 0) return false;
      i = close + 3;
      st.quote = null;
      continue;
    }
    const ch = s[i];
    if (ch === "#") break;
    if (ch === '"' || ch === "'") {
      const triple = ch.repeat(3);
      if (s.startsWith(triple, i)) {
        st.quote = triple;
        i += 3;
        continue;
      }
      const close = findClose(s, i + 1, ch);
      i = close < 0 ? s.length : close + 1;
      continue;
    }
    if (ch === "[" || ch === "{") {
      if (ch === "{" && st.stack.length === 1 && st.stack[0] === "[") {
        record([...st.path, st.nextIndex++], lineNo);
      }
      st.stack.push(ch);
    } else if (ch === "]" || ch === "}") {
      st.stack.pop();
    }
    i++;
  }
  return st.stack.length === 0 && st.quote === null;
}
