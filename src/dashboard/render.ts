/** Server-side rendering of dashboard pages: Preact to an HTML document response. */
import type { VNode } from "preact";
import { renderToString } from "preact-render-to-string";

/**
 * Pages load only same-origin scripts and styles (the theme picker and menu
 * live in `/static/dashboard.js`), so injected markup could not run a script.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data:",
  "script-src 'self'",
  "style-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

/** The page as a full HTML document. */
export function renderPage<P>(page: VNode<P>): string {
  return `<!doctype html>${renderToString(page as VNode<unknown> as VNode)}`;
}

/** An HTML response that is never cached and never framed. */
export function htmlResponse<P>(
  page: VNode<P>,
  init: { status?: number; headers?: HeadersInit } = {},
) {
  const headers = new Headers(init.headers);
  headers.set("content-type", "text/html; charset=utf-8");
  headers.set("cache-control", "no-store");
  headers.set("content-security-policy", CONTENT_SECURITY_POLICY);
  headers.set("x-content-type-options", "nosniff");
  headers.set("referrer-policy", "same-origin");
  return new Response(renderPage(page), { status: init.status ?? 200, headers });
}
