/**
 * The embedded asset manifests must match the files on disk, so a migration
 * added without `deno task gen:assets` fails the suite instead of silently
 * missing from compiled binaries.
 */
import assert from "node:assert/strict";
import { MIGRATIONS } from "../src/storage/migrations.ts";
import { THEMES } from "../src/dashboard/themes_manifest.ts";
import { STATIC_FILES } from "../src/dashboard/static_manifest.ts";
import {
  listMigrationFiles,
  listStaticFiles,
  listThemeFiles,
  renderMigrationsModule,
  renderStaticModule,
  renderThemesModule,
} from "../scripts/gen_assets.ts";

const MIGRATIONS_DIR = new URL("../migrations/", import.meta.url);
const MIGRATIONS_MODULE = new URL("../src/storage/migrations.ts", import.meta.url);

Deno.test("MIGRATIONS embeds exactly the files in migrations/", async () => {
  const onDisk: { name: string; sql: string }[] = [];
  for await (const entry of Deno.readDir(MIGRATIONS_DIR)) {
    if (!entry.isFile) continue;
    onDisk.push({
      name: entry.name,
      sql: await Deno.readTextFile(new URL(entry.name, MIGRATIONS_DIR)),
    });
  }
  onDisk.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const embedded = MIGRATIONS.map(({ name, sql }) => ({ name, sql }));
  assert.deepEqual(
    embedded.map((m) => m.name),
    onDisk.map((m) => m.name),
    "migrations/ and src/storage/migrations.ts differ; run `deno task gen:assets`",
  );
  assert.deepEqual(embedded, onDisk);
});

Deno.test("MIGRATIONS has strictly increasing versions matching the file names", () => {
  let previous = 0;
  for (const m of MIGRATIONS) {
    assert.ok(m.version > previous, `${m.name} is out of order`);
    assert.equal(Number(m.name.split("_")[0]), m.version);
    previous = m.version;
  }
});

Deno.test("src/storage/migrations.ts is what gen:assets would write", async () => {
  const current = await Deno.readTextFile(MIGRATIONS_MODULE);
  assert.equal(
    current,
    renderMigrationsModule(listMigrationFiles()),
    "src/storage/migrations.ts is stale or hand-edited; run `deno task gen:assets`",
  );
});

Deno.test("THEMES embeds exactly the files in themes/, byte for byte", async () => {
  const dir = new URL("../themes/", import.meta.url);
  const onDisk: { name: string; toml: string }[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile) continue;
    onDisk.push({
      name: entry.name.replace(/\.toml$/, ""),
      toml: await Deno.readTextFile(new URL(encodeURIComponent(entry.name), dir)),
    });
  }
  onDisk.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  assert.ok(onDisk.length >= 50, "the 50 Halloy palettes are expected in themes/");
  assert.deepEqual(THEMES.map(({ name, toml }) => ({ name, toml })), onDisk);
});

Deno.test("src/dashboard/themes_manifest.ts is what gen:assets would write", async () => {
  const current = await Deno.readTextFile(
    new URL("../src/dashboard/themes_manifest.ts", import.meta.url),
  );
  assert.equal(current, renderThemesModule(listThemeFiles()), "run `deno task gen:assets`");
});

Deno.test("STATIC_FILES embeds every file in static/ but its README, byte for byte", async () => {
  const dir = new URL("../static/", import.meta.url);
  const onDisk: { name: string; bytes: Uint8Array }[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || entry.name === "README.md") continue;
    onDisk.push({ name: entry.name, bytes: await Deno.readFile(new URL(entry.name, dir)) });
  }
  onDisk.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const name of ["dashboard.css", "dashboard.js", "favicon.svg", "favicon.ico"]) {
    assert.ok(onDisk.some((f) => f.name === name), `static/${name} is expected`);
  }
  const encoder = new TextEncoder();
  assert.deepEqual(
    STATIC_FILES.map((f) => ({ name: f.name, bytes: f.bytes ?? encoder.encode(f.text) })),
    onDisk,
    "static/ and src/dashboard/static_manifest.ts differ; run `deno task gen:assets`",
  );
});

Deno.test("src/dashboard/static_manifest.ts is what gen:assets would write", async () => {
  const current = await Deno.readTextFile(
    new URL("../src/dashboard/static_manifest.ts", import.meta.url),
  );
  assert.equal(current, renderStaticModule(listStaticFiles()), "run `deno task gen:assets`");
});
