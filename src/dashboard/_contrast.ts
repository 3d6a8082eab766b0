/**
 * Readable themes: WCAG 2.x contrast (relative luminance, ratio) and the
 * adjustment that moves a theme's foreground colours just far enough toward
 * white or black that every text/background pair the stylesheet draws reaches
 * AA. Palettes are artistic; a dashboard must be legible (issue #14: Cyber
 * Red's secondary text measured 2.2:1), so foregrounds give way, never
 * backgrounds.
 */
import { mix, parseHex, toHex } from "./_color.ts";
import type { Rgb } from "./_color.ts";
import type { ThemeVariable, ThemeVariables } from "./_palettes.ts";

/** WCAG AA for body text. */
export const AA_TEXT = 4.5;
/** WCAG AA for large text and for the boundaries of controls (1.4.11). */
export const AA_NON_TEXT = 3;

/** WCAG relative luminance of an sRGB colour, 0 (black) to 1 (white). */
export function luminance(c: Rgb): number {
  const lin = (v: number) => {
    const s = v / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
}

/** WCAG contrast ratio of two colours, 1 to 21, order-independent. */
export function contrastRatio(a: Rgb, b: Rgb): number {
  const la = luminance(a), lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/** A foreground variable, the backgrounds it is drawn on in dashboard.css, and the ratio it needs. */
export interface ContrastRule {
  fg: ThemeVariable;
  on: readonly ThemeVariable[];
  min: number;
}

/**
 * Every foreground the stylesheet draws from a theme variable, with the
 * backgrounds under it (static/dashboard.css; keep the two in step). Status
 * colours are text too (warning card values, error lines), so they get 4.5.
 */
export const CONTRAST_RULES: readonly ContrastRule[] = [
  {
    fg: "--page-text",
    on: [
      "--page-bg",
      "--card-bg",
      "--chip-bg",
      "--button-bg",
      "--button-bg-hover",
      "--button-bg-active",
    ],
    min: AA_TEXT,
  },
  { fg: "--topbar-text", on: ["--topbar-bg"], min: AA_TEXT },
  // A hovered nav link shows --topbar-text on --nav-hover-bg; the highlight gives way to the text.
  { fg: "--nav-hover-bg", on: ["--topbar-text"], min: AA_TEXT },
  { fg: "--nav-text", on: ["--topbar-bg"], min: AA_TEXT },
  { fg: "--nav-active-text", on: ["--nav-active-bg"], min: AA_TEXT },
  { fg: "--button-primary-text", on: ["--button-primary-bg"], min: AA_TEXT },
  { fg: "--text-secondary", on: ["--page-bg", "--card-bg", "--chip-bg"], min: AA_TEXT },
  { fg: "--table-header-text", on: ["--table-header-bg"], min: AA_TEXT },
  { fg: "--text-muted", on: ["--page-bg", "--card-bg"], min: AA_TEXT },
  { fg: "--heatmap-label-text", on: ["--page-bg", "--card-bg"], min: AA_TEXT },
  { fg: "--link-color", on: ["--page-bg", "--card-bg"], min: AA_TEXT },
  { fg: "--link-color-hover", on: ["--page-bg", "--card-bg"], min: AA_TEXT },
  { fg: "--color-success", on: ["--page-bg", "--card-bg"], min: AA_TEXT },
  { fg: "--color-error", on: ["--page-bg", "--card-bg"], min: AA_TEXT },
  { fg: "--color-warning", on: ["--page-bg", "--card-bg"], min: AA_TEXT },
  { fg: "--color-info", on: ["--page-bg", "--card-bg"], min: AA_TEXT },
  { fg: "--tag-default-text", on: ["--tag-default-bg"], min: AA_TEXT },
  { fg: "--tag-success-text", on: ["--tag-success-bg"], min: AA_TEXT },
  { fg: "--tag-warning-text", on: ["--tag-warning-bg"], min: AA_TEXT },
  { fg: "--tag-error-text", on: ["--tag-error-bg"], min: AA_TEXT },
  // Boundaries of buttons, selects, inputs and the period selector on the page. In the top bar a
  // control's fill is its boundary (the default theme's light buttons on a dark bar).
  { fg: "--button-border", on: ["--button-bg", "--page-bg"], min: AA_NON_TEXT },
];

function worst(fg: Rgb, bgs: readonly Rgb[]): number {
  return Math.min(...bgs.map((bg) => contrastRatio(fg, bg)));
}

/**
 * `fg` moved the least distance toward white or black (whichever the
 * backgrounds leave more room for) that reaches `min` on every background;
 * `fg` itself when it already does.
 */
export function withContrast(fg: Rgb, bgs: readonly Rgb[], min: number): Rgb {
  if (worst(fg, bgs) >= min) return fg;
  const white = { r: 255, g: 255, b: 255 }, black = { r: 0, g: 0, b: 0 };
  const target = worst(white, bgs) >= worst(black, bgs) ? white : black;
  // Contrast grows monotonically along the blend once past the backgrounds; 20 halvings
  // pin the ratio far below one step of a channel.
  let lo = 0, hi = 1;
  for (let i = 0; i < 20; i++) {
    const t = (lo + hi) / 2;
    if (worst(mix(fg, target, t), bgs) >= min) hi = t;
    else lo = t;
  }
  // Rounding to hex can lose a hair of contrast: step on until the rounded colour passes.
  let t = hi;
  let out = parseHex(toHex(mix(fg, target, t)))!;
  while (worst(out, bgs) < min && t < 1) {
    t = Math.min(1, t + 0.005);
    out = parseHex(toHex(mix(fg, target, t)))!;
  }
  return out;
}

/**
 * A copy of `vars` whose foregrounds meet {@linkcode CONTRAST_RULES}, applied in order (a rule
 * sees the colours earlier rules chose); only the `fg` of a rule ever changes.
 */
export function readableVariables(vars: Readonly<ThemeVariables>): ThemeVariables {
  const out = { ...vars };
  const rgb = (name: ThemeVariable) => parseHex(out[name])!;
  for (const rule of CONTRAST_RULES) {
    out[rule.fg] = toHex(withContrast(rgb(rule.fg), rule.on.map(rgb), rule.min));
  }
  return out;
}
