/**
 * Putting verified backup files in place (spec 05 §6). Each file is first
 * copied beside its target (same folder, so the final rename is atomic),
 * then every current file is renamed to `<name>.before-recover-<stamp>` and
 * the staged copy renamed over it. The replaced files stay there for the
 * operator; a failure part-way renames everything back.
 */
import { dirName } from "../config/paths.ts";
import { pathExists } from "./env.ts";

/** One file to put in place. */
export interface RestoreTarget {
  /** The verified copy (in a private temp folder). */
  from: string;
  /** Where it goes. */
  to: string;
  /** A database: its `-wal` and `-shm` companions are moved aside with it. */
  database?: boolean;
}

/** What {@linkcode applyRestore} did. */
export interface RestoreResult {
  /** Files now in place. */
  restored: string[];
  /** Former files kept, as `[original path, where it was kept]`. */
  kept: Array<[string, string]>;
}

/** `<path>.before-recover-<stamp>`, with `-1`, `-2`… when taken. */
function keepName(path: string, stamp: string): string {
  for (let n = 0;; n++) {
    const candidate = `${path}.before-recover-${stamp}${n === 0 ? "" : `-${n}`}`;
    if (!pathExists(candidate)) return candidate;
  }
}

/** Restores every target or, on any error, none (the previous files are renamed back). */
export function applyRestore(targets: readonly RestoreTarget[], stamp: string): RestoreResult {
  const staged: string[] = [];
  const moves: Array<[string, string]> = []; // [from, to] renames done, for the undo
  const done: string[] = [];
  try {
    for (const t of targets) {
      Deno.mkdirSync(dirName(t.to), { recursive: true, mode: 0o700 });
      const stage = `${t.to}.recover-${Deno.pid}.tmp`;
      Deno.copyFileSync(t.from, stage);
      Deno.chmodSync(stage, 0o600);
      staged.push(stage);
    }
    targets.forEach((t, i) => {
      const current = t.database ? [t.to, `${t.to}-wal`, `${t.to}-shm`] : [t.to];
      for (const path of current) {
        if (!pathExists(path)) continue;
        const kept = keepName(path, stamp);
        Deno.renameSync(path, kept);
        moves.push([path, kept]);
      }
      Deno.renameSync(staged[i], t.to);
      done.push(t.to);
    });
  } catch (error) {
    for (const path of done) {
      try {
        Deno.removeSync(path);
      } catch { /* leave it: the undo below still puts the old file back over it */ }
    }
    for (const [path, kept] of moves.reverse()) {
      try {
        Deno.renameSync(kept, path);
      } catch { /* reported below through the original error */ }
    }
    throw error;
  } finally {
    for (const stage of staged) {
      try {
        Deno.removeSync(stage);
      } catch { /* already renamed into place */ }
    }
  }
  return { restored: done, kept: moves };
}
