/** Key paths as operators read them: `providers.groq.accounts[1].api_key_env`. */

/** One step of a key path: a table key or an array index. */
export type PathSegment = string | number;

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/** Formats segments the way the TOML file spells them; odd keys are quoted. */
export function formatKeyPath(segments: readonly PathSegment[]): string {
  let out = "";
  for (const seg of segments) {
    if (typeof seg === "number") {
      out += `[${seg}]`;
      continue;
    }
    const key = BARE_KEY.test(seg) ? seg : JSON.stringify(seg);
    out += out === "" ? key : `.${key}`;
  }
  return out;
}

/** A config problem before it is placed on a line of the file. */
export interface KeyedIssue {
  segments: readonly PathSegment[];
  message: string;
}

/** Reads the value at `segments` inside parsed TOML data, or `undefined`. */
export function valueAt(data: unknown, segments: readonly PathSegment[]): unknown {
  let cur: unknown = data;
  for (const seg of segments) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}
