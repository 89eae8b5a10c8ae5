/**
 * The admin page's static files: flat names from the web folder only, nothing else is ever read; and errors.js,
 * made here from the error-code table (the reasons the page shows), so the page never copies them by hand.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Context } from 'hono';
import { errorReasons } from '../errors/codes.js';

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
};
/** Modules made by the server, not read from disk (web/errors.d.ts types them for the page's type-check). */
const GENERATED: Record<string, string> = {
  'errors.js': `// Made by the appliance from src/errors/codes.ts: the words the page shows for an error or upload reason.\nexport const REASONS = ${JSON.stringify(errorReasons())};\n`,
};
const NAME_RE = /^[a-z0-9][a-z0-9_-]*\.(html|js|css|svg|png|ico)$/;

export async function serveStatic(c: Context, webDir: string): Promise<Response> {
  const p = c.req.path;
  const name = p === '/' ? 'index.html' : p.slice(1);
  const m = NAME_RE.exec(name);
  if (!m) return c.text('Not found', 404);
  const made = GENERATED[name];
  if (made !== undefined) return new Response(made, { headers: { 'Content-Type': TYPES.js!, 'Cache-Control': 'no-cache' } });
  try {
    const body = await readFile(path.join(webDir, name));
    return new Response(new Uint8Array(body), { headers: { 'Content-Type': TYPES[m[1]!]!, 'Cache-Control': 'no-cache' } });
  } catch {
    return c.text('Not found', 404);
  }
}
