/** The admin page's static files: flat names from the web folder only, nothing else is ever read. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Context } from 'hono';

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
};
const NAME_RE = /^[a-z0-9][a-z0-9_-]*\.(html|js|css|svg|png|ico)$/;

export async function serveStatic(c: Context, webDir: string): Promise<Response> {
  const p = c.req.path;
  const name = p === '/' ? 'index.html' : p.slice(1);
  const m = NAME_RE.exec(name);
  if (!m) return c.text('Not found', 404);
  try {
    const body = await readFile(path.join(webDir, name));
    return new Response(new Uint8Array(body), { headers: { 'Content-Type': TYPES[m[1]], 'Cache-Control': 'no-cache' } });
  } catch {
    return c.text('Not found', 404);
  }
}
