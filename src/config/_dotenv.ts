/**
 * A small `.env` reader (09-decisions: the file beside the config is loaded at
 * startup). Supports `KEY=VALUE`, `export KEY=VALUE`, comments, blank lines,
 * single quotes (literal) and double quotes (`\n`, `\t`, `\"`, `\\` escapes).
 */

/** Variables read from a `.env` file, plus the lines that could not be read. */
export interface DotEnv {
  vars: Map<string, string>;
  /** 1-based numbers of lines that are not `KEY=VALUE`. */
  badLines: number[];
}

const LINE = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

/** Parses `.env` text; later assignments of the same name win, as in a shell. */
export function parseDotEnv(text: string): DotEnv {
  const vars = new Map<string, string>();
  const badLines: number[] = [];
  const rows = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  rows.forEach((row, i) => {
    const s = row.trim();
    if (s === "" || s.startsWith("#")) return;
    const m = LINE.exec(s);
    const value = m ? readValue(m[2]) : undefined;
    if (!m || value === undefined) {
      badLines.push(i + 1);
      return;
    }
    vars.set(m[1], value);
  });
  return { vars, badLines };
}

function readValue(rest: string): string | undefined {
  const q = rest[0];
  if (q === "'" || q === '"') {
    const close = findClosingQuote(rest, q);
    if (close < 0) return undefined;
    const tail = rest.slice(close + 1).trim();
    if (tail !== "" && !tail.startsWith("#")) return undefined;
    const inner = rest.slice(1, close);
    return q === "'" ? inner : unescapeDouble(inner);
  }
  // Unquoted: a `#` after whitespace starts a comment.
  return rest.replace(/\s+#.*$/, "").trim();
}

function findClosingQuote(s: string, q: string): number {
  for (let i = 1; i < s.length; i++) {
    if (q === '"' && s[i] === "\\") {
      i++;
      continue;
    }
    if (s[i] === q) return i;
  }
  return -1;
}

function unescapeDouble(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => {
    switch (c) {
      case "n":
        return "\n";
      case "r":
        return "\r";
      case "t":
        return "\t";
      default:
        return c;
    }
  });
}
