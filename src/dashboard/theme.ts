/**
 * Dashboard themes (spec 06 §5): Halloy palette TOML translated into the 46
 * CSS custom properties the stylesheet uses, the built-in `default` palette,
 * and a library of available themes (bundled, overridden by `themes_dir`)
 * that keeps the last three rendered stylesheets.
 */
import { parse } from "smol-toml";
import type { EmbeddedTheme } from "./themes_manifest.ts";
import { lighten, lightness, mix, parseHex, toHex } from "./_color.ts";
import type { Rgb } from "./_color.ts";
import { DEFAULT_THEME, HALLOY_DEFAULTS, THEME_VARIABLES } from "./_palettes.ts";
import { readableVariables } from "./_contrast.ts";
import type { ThemeVariable, ThemeVariables } from "./_palettes.ts";

export { DEFAULT_THEME, THEME_VARIABLES };
export type { ThemeVariable, ThemeVariables };

/** Name of the built-in palette used when no theme applies. */
export const DEFAULT_THEME_NAME = "default";

/** Allowed theme names (spec 06 §5): letters, digits, space and `_ . ( ) -`. */
const THEME_NAME = /^[A-Za-z0-9 _.()-]{1,100}$/;

/** True when `name` may name a theme: allowed characters only, and not a dot path. */
export function isValidThemeName(name: string): boolean {
  return THEME_NAME.test(name) && name !== "." && name !== ".." && name.trim() === name;
}

type Table = Record<string, unknown>;

function table(value: unknown): Table | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? value as Table
    : undefined;
}

/** Reads a colour from the parsed TOML: present and valid, else undefined. */
function pick(doc: Table, path: readonly string[], key: string): Rgb | undefined {
  let t: Table | undefined = doc;
  for (const part of path) t = table(t?.[part]);
  const raw = t?.[key];
  return typeof raw === "string" ? parseHex(raw) : undefined;
}

/** Translates a Halloy theme file into the dashboard's variables (spec 06 §5). */
export function halloyToVariables(toml: string): ThemeVariables {
  const doc = parse(toml) as Table;
  const get = (section: string, key: string): Rgb =>
    pick(doc, [section], key) ?? parseHex(HALLOY_DEFAULTS[section][key])!;
  const general = get("general", "background");
  const buffer = get("buffer", "background");
  const dark = lightness(general) < 0.5;
  const pageBg = dark ? buffer : general;
  const primary = get("text", "primary");
  const secondary = get("text", "secondary");
  const success = get("text", "success");
  const error = get("text", "error");
  const warning = get("buffer", "action");
  const info = get("buffer", "url");
  const topic = get("buffer", "topic");
  const muted = toHex(topic) === toHex(primary) ? secondary : topic;
  const navActive = pick(doc, ["buttons", "primary"], "background_selected") ??
    pick(doc, ["buffer"], "background_title_bar") ??
    pick(doc, ["buttons", "primary"], "background") ?? general;
  const border = get("general", "border");
  const h = toHex;
  const values: [ThemeVariable, Rgb][] = [
    ["--page-bg", pageBg],
    ["--page-text", primary],
    ["--page-border", border],
    ["--topbar-border", border],
    ["--card-border", border],
    ["--topbar-bg", general],
    ["--topbar-text", primary],
    ["--nav-active-text", primary],
    ["--button-primary-text", primary],
    ["--nav-text", secondary],
    ["--table-header-text", secondary],
    ["--text-secondary", secondary],
    ["--nav-hover-bg", get("buffer", "highlight")],
    ["--nav-active-bg", navActive],
    ["--button-primary-bg", navActive],
    ["--card-bg", buffer],
    ["--button-bg", buffer],
    ["--table-header-bg", get("buffer", "background_title_bar")],
    ["--table-border", get("general", "horizontal_rule")],
    ["--text-muted", muted],
    ["--color-success", success],
    ["--color-error", error],
    ["--color-warning", warning],
    ["--color-info", info],
    ["--link-color", info],
    ["--accent-color", info],
    ["--link-color-hover", lighten(info, 0.85)],
    ["--chip-bg", mix(pageBg, primary, 0.06)],
    ["--chip-border", mix(pageBg, primary, 0.14)],
    ["--button-border", mix(buffer, primary, 0.18)],
    ["--button-bg-hover", mix(buffer, primary, 0.08)],
    ["--button-bg-active", mix(buffer, info, 0.20)],
    ["--tag-default-bg", mix(pageBg, info, 0.15)],
    ["--tag-success-bg", mix(pageBg, success, 0.15)],
    ["--tag-warning-bg", mix(pageBg, warning, 0.15)],
    ["--tag-error-bg", mix(pageBg, error, 0.15)],
    ["--tag-default-text", info],
    ["--tag-success-text", success],
    ["--tag-warning-text", warning],
    ["--tag-error-text", error],
    ["--heatmap-0", mix(pageBg, primary, 0.06)],
    ["--heatmap-1", mix(pageBg, success, 0.35)],
    ["--heatmap-2", success],
    ["--heatmap-3", lighten(success, 0.7)],
    ["--heatmap-4", lighten(success, 0.45)],
    ["--heatmap-label-text", muted],
  ];
  return Object.fromEntries(values.map(([k, v]) => [k, h(v)])) as ThemeVariables;
}

/** `:root { --page-bg: …; … }` with every variable in spec order. */
export function renderThemeCss(vars: Readonly<ThemeVariables>): string {
  const lines = THEME_VARIABLES.map((name) => `  ${name}: ${vars[name]};`);
  return `:root {\n${lines.join("\n")}\n}\n`;
}

/** Options for {@linkcode ThemeLibrary}. */
export interface ThemeLibraryOptions {
  bundled: readonly EmbeddedTheme[];
  /** `[dashboard].themes_dir`: its `<name>.toml` files replace bundled themes of the same name. */
  dir?: string;
  /** `[dashboard].theme`, used when the request names no available theme. */
  configured: string;
  log?: (message: string) => void;
}

/** Rendered stylesheets kept (spec 06 §1: the server keeps an LRU of 3 themes). */
const CSS_CACHE_SIZE = 3;

/** The available themes and their stylesheets. */
export class ThemeLibrary {
  readonly #sources = new Map<string, () => string>();
  readonly #css = new Map<string, string>();
  readonly #configured: string;
  readonly #log: (message: string) => void;

  constructor(options: ThemeLibraryOptions) {
    this.#configured = options.configured;
    this.#log = options.log ?? (() => {});
    for (const t of options.bundled) {
      if (isValidThemeName(t.name)) this.#sources.set(t.name, () => t.toml);
    }
    if (options.dir !== undefined) this.#scanDir(options.dir);
    this.#sources.delete(DEFAULT_THEME_NAME);
  }

  /** Adds every `<valid name>.toml` regular file of `dir`; a file can never name a path outside it. */
  #scanDir(dir: string): void {
    let root: string;
    try {
      root = Deno.realPathSync(dir);
      for (const entry of Deno.readDirSync(root)) {
        // Symlinks are listed too; their target is checked when read.
        if (!(entry.isFile || entry.isSymlink) || !entry.name.endsWith(".toml")) continue;
        const name = entry.name.slice(0, -".toml".length);
        if (!isValidThemeName(name)) continue;
        const file = `${root}/${entry.name}`;
        this.#sources.set(name, () => {
          const real = Deno.realPathSync(file);
          if (!real.startsWith(root + "/")) throw new Error("resolves outside themes_dir");
          return Deno.readTextFileSync(real);
        });
      }
    } catch (error) {
      this.#log(`Cannot read themes_dir "${dir}": ${messageOf(error)}`);
    }
  }

  /** Every available theme name, `default` first, then case-insensitively sorted. */
  names(): string[] {
    const rest = [...this.#sources.keys()].sort((a, b) =>
      a.toLowerCase().localeCompare(b.toLowerCase())
    );
    return [DEFAULT_THEME_NAME, ...rest];
  }

  /** True when `name` is `default` or an available theme. */
  has(name: string): boolean {
    return name === DEFAULT_THEME_NAME || this.#sources.has(name);
  }

  /** The theme to use: the requested one if available, else the configured one, else `default`. */
  resolve(requested: string | undefined): string {
    if (requested !== undefined && isValidThemeName(requested) && this.has(requested)) {
      return requested;
    }
    return this.has(this.#configured) ? this.#configured : DEFAULT_THEME_NAME;
  }

  /**
   * The stylesheet of an available theme, its foregrounds adjusted to reach WCAG AA; a file that
   * cannot be read or parsed gives the default.
   */
  css(name: string): string {
    const cached = this.#css.get(name);
    if (cached !== undefined) {
      this.#css.delete(name);
      this.#css.set(name, cached);
      return cached;
    }
    let vars: Readonly<ThemeVariables> = DEFAULT_THEME;
    const source = this.#sources.get(name);
    if (source !== undefined) {
      try {
        vars = halloyToVariables(source());
      } catch (error) {
        this.#log(`Theme "${name}" is unusable, serving the default: ${messageOf(error)}`);
      }
    }
    // Served colours reach WCAG AA (src/dashboard/_contrast.ts); the translation stays the spec's.
    const css = renderThemeCss(readableVariables(vars));
    this.#css.set(name, css);
    if (this.#css.size > CSS_CACHE_SIZE) this.#css.delete(this.#css.keys().next().value!);
    return css;
  }

  /** Names whose stylesheet is cached, least recently used first (for tests). */
  cachedNames(): string[] {
    return [...this.#css.keys()];
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0] : String(error);
}
