/**
 * A table described by its columns: each column names its header, how to
 * show a row's cell, and its responsive priority (spec 06 §1: priority 2 and
 * 3 columns are hidden on narrow screens).
 */
import type { ComponentChildren } from "preact";

/** One column of a {@linkcode DataTable}. */
export interface Column<R> {
  label: string;
  cell: (row: R) => ComponentChildren;
  /** Right-aligned numbers. */
  num?: boolean;
  /** 2 or 3: hidden on narrower screens; 1 (default) always shown. */
  priority?: 1 | 2 | 3;
  /** Header tooltip (also its accessible name). */
  tip?: string;
}

function cls<R>(c: Column<R>): string | undefined {
  const parts = [c.num ? "num" : "", c.priority === 2 ? "p2" : c.priority === 3 ? "p3" : ""]
    .filter((p) => p !== "");
  return parts.length === 0 ? undefined : parts.join(" ");
}

/** The rows under their headers; `rowKey` names each row (also its `data-row`). */
export function DataTable<R>(
  { columns, rows, rowKey, label }: {
    columns: readonly Column<R>[];
    rows: readonly R[];
    rowKey: (row: R) => string;
    label: string;
  },
) {
  return (
    <div class="table-wrap">
      <table aria-label={label}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th
                key={c.label}
                scope="col"
                class={cls(c)}
                data-tooltip={c.tip}
                aria-label={c.tip}
              >
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={rowKey(r)} data-row={rowKey(r)}>
              {columns.map((c) => (
                <td key={c.label} class={cls(c)} data-col={c.label}>{c.cell(r)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
