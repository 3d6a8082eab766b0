/**
 * `/static/*` (always public, spec 01 §2.1): the embedded files of `static/`
 * (Chart.js among them, copied from its npm package by `deno task gen:assets`),
 * `/static/theme.css?theme=<name>` and `/favicon.ico`, with the cache lifetimes
 * of spec 06 §1.
 */
import type { Env, Hono } from "hono";
import { STATIC_FILES } from "./static_manifest.ts";
import type { ThemeLibrary } from "./theme.ts";

/** Stylesheets may change with a release or a theme edit: 5 minutes. */
const STYLESHEET_MAX_AGE_S = 300;
/** Scripts and icons: a day. */
const ASSET_MAX_AGE_S = 86_400;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  svg: "image/svg+xml",
  ico: "image/x-icon",
};

function assetResponse(
  body: string | Uint8Array<ArrayBuffer>,
  type: string,
  maxAgeS: number,
): Response {
  return new Response(body, {
    headers: {
      "content-type": type,
      "cache-control": `public, max-age=${maxAgeS}`,
      "x-content-type-options": "nosniff",
    },
  });
}

/** Mounts the static routes; `themes` renders `theme.css`. */
export function mountStaticAssets<E extends Env>(app: Hono<E>, themes: ThemeLibrary): void {
  app.get("/static/theme.css", (c) => {
    const name = themes.resolve(c.req.query("theme"));
    return assetResponse(themes.css(name), CONTENT_TYPES.css, STYLESHEET_MAX_AGE_S);
  });
  for (const file of STATIC_FILES) {
    const ext = file.name.slice(file.name.lastIndexOf(".") + 1);
    const type = CONTENT_TYPES[ext] ?? "application/octet-stream";
    const maxAge = ext === "css" ? STYLESHEET_MAX_AGE_S : ASSET_MAX_AGE_S;
    const body = file.text ?? file.bytes;
    app.get(`/static/${file.name}`, () => assetResponse(body, type, maxAge));
    // Browsers and tools ask the site root for its icon whatever the page links.
    if (file.name === "favicon.ico") {
      app.get("/favicon.ico", () => assetResponse(body, type, maxAge));
    }
  }
}
