/**
 * Writing the Prometheus text exposition format (version 0.0.4): one
 * `# HELP` and `# TYPE` line per family, then its samples. Label values are
 * escaped (backslash, double quote, newline) and numbers written the way the
 * format spells them (`+Inf`, `-Inf`, `NaN`).
 */

/** The content type Prometheus expects for this format. */
export const TEXT_FORMAT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Label names and values of one sample, in the order they are written. */
export type Labels = Readonly<Record<string, string>>;

/** A metric family's kind, as the `# TYPE` line names it. */
export type MetricKind = "counter" | "gauge" | "histogram";

/** Escapes a label value: `\` → `\\`, `"` → `\"`, newline → `\n`. */
export function escapeLabelValue(value: string): string {
  let out = "";
  for (const ch of value) {
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else out += ch;
  }
  return out;
}

/** Escapes HELP text: `\` → `\\`, newline → `\n`. */
function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

/** A sample value as the format writes it. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

function labelText(labels: Labels | undefined): string {
  if (labels === undefined) return "";
  const parts: string[] = [];
  for (const name in labels) parts.push(`${name}="${escapeLabelValue(labels[name])}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** Builds one exposition document family by family. */
export class ExpositionWriter {
  readonly #lines: string[] = [];

  /** Starts a family: its HELP and TYPE lines. Every family is started once. */
  family(name: string, kind: MetricKind, help: string): this {
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${kind}`);
    return this;
  }

  /** One sample line of the current family (`name` may carry a `_bucket`-style suffix). */
  sample(name: string, value: number, labels?: Labels): this {
    this.#lines.push(`${name}${labelText(labels)} ${formatValue(value)}`);
    return this;
  }

  /**
   * A histogram's samples: cumulative `_bucket` lines ending in `+Inf`, then
   * `_sum` and `_count`. `counts[i]` counts observations in bucket `i` alone
   * (the last slot is above every bound).
   */
  histogram(
    name: string,
    bounds: readonly number[],
    counts: ArrayLike<number>,
    sum: number,
    labels: Labels,
  ): this {
    let cumulative = 0;
    for (let i = 0; i < bounds.length; i++) {
      cumulative += counts[i];
      this.sample(`${name}_bucket`, cumulative, { ...labels, le: formatValue(bounds[i]) });
    }
    cumulative += counts[bounds.length];
    this.sample(`${name}_bucket`, cumulative, { ...labels, le: "+Inf" });
    this.sample(`${name}_sum`, sum, labels);
    this.sample(`${name}_count`, cumulative, labels);
    return this;
  }

  /** The document, ending with a newline as the format requires. */
  text(): string {
    return this.#lines.length === 0 ? "" : `${this.#lines.join("\n")}\n`;
  }
}
