/**
 * Colour arithmetic for theme translation (spec 06 §5): hex parsing with the
 * alpha channel dropped, HLS lightness, per-channel mixing and lightness scaling.
 */

/** An sRGB colour, each channel 0–255. */
export interface Rgb {
  r: number;
  g: number;
  b: number;
}

const HEX = /^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/;

/** Parses `#RGB`, `#RRGGBB` or `#RRGGBBAA` (alpha ignored); undefined for anything else. */
export function parseHex(text: string): Rgb | undefined {
  const m = HEX.exec(text.trim());
  if (m === null) return undefined;
  let hex = m[1];
  if (hex.length === 3) hex = [...hex].map((c) => c + c).join("");
  return {
    r: parseInt(hex.slice(0, 2), 16),
    g: parseInt(hex.slice(2, 4), 16),
    b: parseInt(hex.slice(4, 6), 16),
  };
}

/** `#rrggbb`, lowercase. */
export function toHex(c: Rgb): string {
  const part = (v: number) =>
    Math.round(Math.min(255, Math.max(0, v))).toString(16).padStart(2, "0");
  return `#${part(c.r)}${part(c.g)}${part(c.b)}`;
}

/** HLS lightness in [0, 1]: the mean of the largest and smallest channel. */
export function lightness(c: Rgb): number {
  return (Math.max(c.r, c.g, c.b) + Math.min(c.r, c.g, c.b)) / 510;
}

/** Per-channel linear blend: `ratio` 0 gives `a`, 1 gives `b`. */
export function mix(a: Rgb, b: Rgb, ratio: number): Rgb {
  return {
    r: a.r + (b.r - a.r) * ratio,
    g: a.g + (b.g - a.g) * ratio,
    b: a.b + (b.b - a.b) * ratio,
  };
}

/** Scales HLS lightness by `factor` (clamped to [0, 1]); hue and saturation are kept. */
export function lighten(c: Rgb, factor: number): Rgb {
  const { h, l, s } = toHls(c);
  return fromHls(h, Math.min(1, Math.max(0, l * factor)), s);
}

function toHls(c: Rgb): { h: number; l: number; s: number } {
  const r = c.r / 255, g = c.g / 255, b = c.b / 255;
  const max = Math.max(r, g, b), min = Math.min(r, g, b);
  const l = (max + min) / 2;
  if (max === min) return { h: 0, l, s: 0 };
  const d = max - min;
  const s = l <= 0.5 ? d / (max + min) : d / (2 - max - min);
  let h: number;
  if (max === r) h = (g - b) / d;
  else if (max === g) h = 2 + (b - r) / d;
  else h = 4 + (r - g) / d;
  return { h: ((h / 6) % 1 + 1) % 1, l, s };
}

function fromHls(h: number, l: number, s: number): Rgb {
  if (s === 0) return { r: l * 255, g: l * 255, b: l * 255 };
  const m2 = l <= 0.5 ? l * (1 + s) : l + s - l * s;
  const m1 = 2 * l - m2;
  return {
    r: channel(m1, m2, h + 1 / 3) * 255,
    g: channel(m1, m2, h) * 255,
    b: channel(m1, m2, h - 1 / 3) * 255,
  };
}

function channel(m1: number, m2: number, hue: number): number {
  const h = ((hue % 1) + 1) % 1;
  if (h < 1 / 6) return m1 + (m2 - m1) * h * 6;
  if (h < 0.5) return m2;
  if (h < 2 / 3) return m1 + (m2 - m1) * (2 / 3 - h) * 6;
  return m1;
}
