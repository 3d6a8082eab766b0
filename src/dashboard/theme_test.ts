import assert from "node:assert/strict";
import { THEMES } from "./themes_manifest.ts";
import {
  DEFAULT_THEME,
  DEFAULT_THEME_NAME,
  halloyToVariables,
  isValidThemeName,
  renderThemeCss,
  THEME_VARIABLES,
  ThemeLibrary,
} from "./theme.ts";
import { lighten, lightness, mix, parseHex, toHex } from "./_color.ts";
import { readableVariables } from "./_contrast.ts";

function bundled(name: string): string {
  const theme = THEMES.find((t) => t.name === name);
  assert.ok(theme, `bundled theme ${name}`);
  return theme.toml;
}

Deno.test("THEME_VARIABLES lists the 46 variables of spec 06 §5 once each", () => {
  assert.equal(THEME_VARIABLES.length, 46);
  assert.equal(new Set(THEME_VARIABLES).size, 46);
  assert.deepEqual(Object.keys(DEFAULT_THEME).sort(), [...THEME_VARIABLES].sort());
});

Deno.test("halloyToVariables() maps a dark theme (Dracula) as the spec says", () => {
  const v = halloyToVariables(bundled("Dracula"));
  // general.background #282A36 has HLS lightness 0.18: dark, so the page takes buffer.background.
  assert.equal(v["--page-bg"], "#1f222d");
  assert.equal(v["--topbar-bg"], "#282a36");
  assert.equal(v["--page-text"], "#f8f8f2");
  assert.equal(v["--nav-active-bg"], "#3d3d51"); // buttons.primary.background_selected
  assert.equal(v["--table-header-bg"], "#1a1b24");
  assert.equal(v["--text-muted"], "#c0c1bf"); // buffer.topic differs from text.primary
  // mix(#1f222d, #f8f8f2, 0.06) per channel: 44.0, 46.8, 56.8.
  assert.equal(v["--chip-bg"], "#2c2f39");
  // lighten(#8be9fd, 0.85): HLS lightness 0.769 → 0.653, hue and saturation kept.
  assert.equal(v["--link-color-hover"], "#51defc");
  assert.equal(v["--heatmap-2"], "#50fa7b");
});

Deno.test("halloyToVariables() maps a light theme (Catppuccin Latte) to general.background", () => {
  const v = halloyToVariables(bundled("Catppuccin Latte"));
  assert.equal(v["--page-bg"], "#dce0e8");
  assert.equal(v["--card-bg"], "#e6e9ef");
  assert.equal(v["--color-success"], "#40a02b");
});

Deno.test("halloyToVariables() uses text.secondary for muted text when topic equals primary", () => {
  const v = halloyToVariables(bundled("Cyber Red"));
  assert.equal(v["--text-muted"], "#8f1134");
  assert.equal(v["--heatmap-label-text"], "#8f1134");
});

Deno.test("halloyToVariables() fills missing keys with the Halloy defaults and drops alpha", () => {
  const v = halloyToVariables('[buffer]\nurl = "#11223344"\n[text]\nsuccess = "not a colour"\n');
  assert.equal(v["--color-info"], "#112233");
  assert.equal(v["--link-color"], "#112233");
  assert.equal(v["--color-success"], "#a6e3a1");
  assert.equal(v["--page-bg"], "#1e1e2e");
  // No buttons and no title bar in the file: the last fallback, general.background (default).
  assert.equal(v["--nav-active-bg"], "#1e1e2e");
  for (const name of THEME_VARIABLES) assert.match(v[name], /^#[0-9a-f]{6}$/, name);
});

Deno.test("renderThemeCss() writes every variable in spec order", () => {
  const css = renderThemeCss(DEFAULT_THEME);
  const names = [...css.matchAll(/^\s+(--[a-z0-9-]+):/gm)].map((m) => m[1]);
  assert.deepEqual(names, [...THEME_VARIABLES]);
  assert.match(css, /--page-bg: #f6f7f9;/);
  assert.match(css, /--heatmap-4: #216e39;/);
});

Deno.test("colour helpers: parse, lightness, mix, lighten", () => {
  assert.deepEqual(parseHex("#abc"), { r: 0xaa, g: 0xbb, b: 0xcc });
  assert.deepEqual(parseHex("#FF000080"), { r: 255, g: 0, b: 0 });
  assert.equal(parseHex("red"), undefined);
  assert.equal(lightness(parseHex("#ffffff")!), 1);
  assert.equal(toHex(mix(parseHex("#000000")!, parseHex("#ffffff")!, 0.5)), "#808080");
  assert.equal(toHex(lighten(parseHex("#808080")!, 0.5)), "#404040");
});

Deno.test("isValidThemeName() accepts theme stems and refuses paths", () => {
  for (const ok of ["Dracula", "Discord (80_ Saturation)", "base16-atelier-forest-light"]) {
    assert.ok(isValidThemeName(ok), ok);
  }
  for (const bad of ["", "..", ".", "../x", "a/b", "a\\b", "x\u0000", "<script>", " lead"]) {
    assert.ok(!isValidThemeName(bad), JSON.stringify(bad));
  }
});

Deno.test("ThemeLibrary resolves requested, then configured, then default", () => {
  const lib = new ThemeLibrary({ bundled: THEMES, configured: "Nord" });
  assert.equal(lib.names()[0], DEFAULT_THEME_NAME);
  assert.equal(lib.names().length, THEMES.length + 1);
  assert.equal(lib.resolve("Dracula"), "Dracula");
  assert.equal(lib.resolve("No Such Theme"), "Nord");
  assert.equal(lib.resolve("../../etc/passwd"), "Nord");
  assert.equal(lib.resolve(undefined), "Nord");
  const none = new ThemeLibrary({ bundled: THEMES, configured: "Missing" });
  assert.equal(none.resolve("nope"), DEFAULT_THEME_NAME);
  assert.equal(none.css(DEFAULT_THEME_NAME), renderThemeCss(readableVariables(DEFAULT_THEME)));
});

Deno.test("ThemeLibrary keeps the three most recently used stylesheets", () => {
  const lib = new ThemeLibrary({ bundled: THEMES, configured: "Nord" });
  for (const name of ["Nord", "Dracula", "Matrix"]) lib.css(name);
  lib.css("Nord");
  lib.css("Zenburn");
  assert.deepEqual(lib.cachedNames(), ["Matrix", "Nord", "Zenburn"]);
  assert.equal(
    lib.css("Dracula"),
    renderThemeCss(readableVariables(halloyToVariables(bundled("Dracula")))),
  );
  assert.deepEqual(lib.cachedNames(), ["Nord", "Zenburn", "Dracula"]);
});

Deno.test("ThemeLibrary lets themes_dir override bundled themes, never reading outside it", async () => {
  const root = await Deno.makeTempDir({ prefix: "eggpool-themes-" });
  try {
    const dir = `${root}/themes`;
    await Deno.mkdir(dir);
    await Deno.writeTextFile(`${dir}/Dracula.toml`, '[general]\nbackground = "#FAFAFA"\n');
    await Deno.writeTextFile(`${dir}/My Theme.toml`, '[text]\nprimary = "#d0e0f0"\n');
    await Deno.writeTextFile(`${dir}/bad$name.toml`, '[text]\nprimary = "#654321"\n');
    await Deno.writeTextFile(`${root}/secret.toml`, '[text]\nprimary = "#abcdef"\n');
    await Deno.symlink(`${root}/secret.toml`, `${dir}/Escape.toml`);
    const logs: string[] = [];
    const lib = new ThemeLibrary({
      bundled: THEMES,
      dir,
      configured: "Dracula",
      log: (m) => logs.push(m),
    });
    assert.ok(lib.has("My Theme"));
    assert.ok(!lib.has("bad$name"));
    assert.equal(lib.names().filter((n) => n === "Dracula").length, 1);
    // The override is light (#FAFAFA), so the page background is general.background.
    assert.match(lib.css("Dracula"), /--page-bg: #fafafa;/);
    assert.match(lib.css("My Theme"), /--page-text: #d0e0f0;/);
    // A symlink out of the folder is listed by name, but its target is never read.
    assert.ok(lib.has("Escape"));
    assert.equal(lib.css("Escape"), renderThemeCss(readableVariables(DEFAULT_THEME)));
    assert.ok(logs.some((m) => m.includes("Escape") && m.includes("outside")), logs.join("\n"));
    const missing = new ThemeLibrary({
      bundled: THEMES,
      dir: `${root}/nope`,
      configured: "Nord",
      log: (m) => logs.push(m),
    });
    assert.equal(missing.names().length, THEMES.length + 1);
    assert.ok(logs.some((m) => m.startsWith("Cannot read themes_dir")));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
