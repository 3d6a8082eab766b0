/**
 * What the stats and page benches share: their command-line flags and the
 * history they read, either `--db PATH` brought to this build's schema (as
 * the server would on start) or `--rows N` (1 000 000) seeded over 365 days
 * into a temporary file.
 */
import { openDatabase } from "../src/storage/db.ts";
import { migrate } from "../src/storage/migrate.ts";
import { MIGRATIONS } from "../src/storage/migrations.ts";
import { seedHistory } from "./seed_history.ts";

/** The value after `name` on the command line. */
export function arg(name: string): string | undefined {
  const i = Deno.args.indexOf(name);
  return i < 0 ? undefined : Deno.args[i + 1];
}

/** A history file and its request count; disposing removes a seeded one. */
export interface BenchHistory extends AsyncDisposable {
  path: string;
  rows: number;
}

/** Opens (migrating, and saying what it migrated) or seeds the history. */
export async function benchHistory(tmpPrefix: string): Promise<BenchHistory> {
  let path = arg("--db");
  let tmp: string | undefined;
  if (path === undefined) {
    tmp = await Deno.makeTempDir({ prefix: tmpPrefix });
    path = `${tmp}/history.sqlite3`;
    const db = openDatabase({ path, synchronous: "OFF" });
    migrate(db, MIGRATIONS, { clock: Date.now });
    seedHistory(db, { rows: Number(arg("--rows") ?? 1_000_000), days: 365, now: Date.now() });
    db.close();
  }
  const db = openDatabase({ path });
  const t0 = performance.now();
  const applied = migrate(db, MIGRATIONS, { clock: Date.now });
  if (applied.length > 0) {
    console.log(
      `Migrated ${applied.map((m) => m.name).join(", ")} in ${
        Math.round(performance.now() - t0)
      } ms`,
    );
  }
  const rows = Number(db.stmt("SELECT count(*) AS n FROM requests").get()?.n ?? 0);
  db.close();
  return {
    path,
    rows,
    async [Symbol.asyncDispose]() {
      if (tmp !== undefined) await Deno.remove(tmp, { recursive: true });
    },
  };
}
