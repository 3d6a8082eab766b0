import assert from "node:assert/strict";
import { THEMES } from "./themes_manifest.ts";
import { DEFAULT_THEME_NAME, THEME_VARIABLES, ThemeLibrary } from "./theme.ts";
import { AA_NON_TEXT, AA_TEXT, CONTRAST_RULES, contrastRatio, withContrast } from "./_contrast.ts";
import { parseHex, toHex } from "./_color.ts";
import { STATIC_FILES } from "./static_manifest.ts";

/** The variables of a served `theme.css`, read back from its text. */
function servedVariables(css: string): Record<string, string> {
  return Object.fromEntries([...css.matchAll(/(--[a-z0-9-]+): (#[0-9a-f]{6});/g)].map((m) => [
    m[1],
    m[2],
  ]));
}

function ratio(vars: Record<string, string>, a: string, b: string): number {
  return contrastRatio(parseHex(vars[a])!, parseHex(vars[b])!);
}

Deno.test("contrastRatio() follows WCAG 2: black on white is 21, equal colours 1", () => {
  const white = parseHex("#ffffff")!, black = parseHex("#000000")!;
  assert.equal(contrastRatio(black, white), 21);
  assert.equal(contrastRatio(white, white), 1);
  // #767676 on white is the well-known lightest grey that passes AA (4.54:1).
  assert.equal(contrastRatio(parseHex("#767676")!, white).toFixed(2), "4.54");
});

Deno.test("withContrast() keeps a passing colour and moves a failing one just past the bar", () => {
  const bg = parseHex("#090808")!;
  const ok = parseHex("#ffadad")!;
  assert.equal(toHex(withContrast(ok, [bg], AA_TEXT)), "#ffadad");
  const dim = parseHex("#8f1134")!; // Cyber Red's text.secondary: 2.2:1 on its background
  assert.ok(contrastRatio(dim, bg) < 2.3);
  const fixed = withContrast(dim, [bg], AA_TEXT);
  assert.ok(contrastRatio(fixed, bg) >= AA_TEXT);
  assert.ok(contrastRatio(fixed, bg) < AA_TEXT + 0.3, "not pushed further than needed");
  assert.ok(fixed.r > fixed.g && fixed.r > fixed.b, "keeps its red hue");
});

Deno.test("every colour the stylesheet draws text or a border with is covered by a contrast rule", () => {
  const css = STATIC_FILES.find((f) => f.name === "dashboard.css")?.text ?? "";
  const fgs = new Set(CONTRAST_RULES.map((r) => r.fg));
  const used = new Set(
    [...css.matchAll(/(?:^|\s)color:\s*var\((--[a-z0-9-]+)\)/gm)].map((m) => m[1]),
  );
  assert.ok(used.size >= 10, `found ${used.size} text colours`);
  for (const name of used) assert.ok(fgs.has(name as never), `${name} has no contrast rule`);
  for (const rule of CONTRAST_RULES) {
    assert.ok(THEME_VARIABLES.includes(rule.fg), rule.fg);
    assert.ok([AA_TEXT, AA_NON_TEXT].includes(rule.min));
  }
});

Deno.test("all 50 bundled themes and the default reach WCAG AA on every pair the stylesheet draws", () => {
  assert.equal(THEMES.length, 50);
  const library = new ThemeLibrary({ bundled: THEMES, configured: DEFAULT_THEME_NAME });
  const failures: string[] = [];
  let pairs = 0;
  for (const name of library.names()) {
    const vars = servedVariables(library.css(name));
    assert.equal(Object.keys(vars).length, 46, name);
    for (const rule of CONTRAST_RULES) {
      for (const bg of rule.on) {
        pairs++;
        const r = ratio(vars, rule.fg, bg);
        if (r < rule.min) failures.push(`${name}: ${rule.fg} on ${bg} ${r.toFixed(2)}:1`);
      }
    }
    // Body text and borders as they appear most: text on page and card backgrounds.
    for (const bg of ["--page-bg", "--card-bg"]) {
      for (const fg of ["--page-text", "--text-secondary", "--text-muted", "--link-color"]) {
        if (ratio(vars, fg, bg) < AA_TEXT) failures.push(`${name}: ${fg} on ${bg}`);
      }
    }
  }
  assert.deepEqual(failures, []);
  assert.equal(pairs, 51 * CONTRAST_RULES.reduce((n, r) => n + r.on.length, 0));
});

Deno.test("Cyber Red's secondary text, 2.2:1 in its palette, is served at AA", () => {
  const library = new ThemeLibrary({ bundled: THEMES, configured: "Cyber Red" });
  const vars = servedVariables(library.css("Cyber Red"));
  assert.equal(vars["--page-bg"], "#090808"); // backgrounds are the palette's own
  assert.notEqual(vars["--text-secondary"], "#8f1134");
  assert.ok(ratio(vars, "--text-secondary", "--page-bg") >= AA_TEXT);
  assert.ok(ratio(vars, "--text-secondary", "--chip-bg") >= AA_TEXT);
});
