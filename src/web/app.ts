/** createApp(deps): the admin page and its JSON API as one Hono app (serve it with @hono/node-server). */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppDeps } from './ports.js';
import type { AppEnv } from './env.js';
import { errorResponse } from './http.js';
import { authGate, hostGate, securityHeaders } from './security.js';
import { hostCheck, requestFacts, type RequestFacts } from './origin.js';
import { serveStatic } from './static.js';
import { openapi } from './openapi.js';
import { Captures } from './captures.js';
import { apiRoutes } from './routes/index.js';
import { allowedMethods } from './allow.js';
import { humanBytes } from '../util/bytes.js';

export type { AppDeps } from './ports.js';

/** The largest request body that is not a photo upload (JSON: names, tokens, settings). */
export const JSON_MAX_BYTES = 1024 * 1024;

const DEFAULT_WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');

/** The socket's remote address under @hono/node-server; "local" without one (app.request in tests). */
function socketAddress(env: unknown): string {
  const incoming = (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? 'local';
}

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const webDir = deps.webDir ?? DEFAULT_WEB_DIR;
  const factsOf = requestFacts(deps.config.web);
  const facts = (c: Context): RequestFacts => {
    const f = factsOf(socketAddress(c.env), new URL(c.req.url).protocol === 'https:', c.req.raw.headers);
    return deps.clientIp ? { ...f, ip: deps.clientIp(c.req.raw, c.env) } : f;
  };
  const captures = new Captures();

  app.use('*', securityHeaders);
  app.use('*', hostGate(hostCheck(deps.config.web.allowedHosts)));
  app.onError((err, c) => {
    const r = errorResponse(c, err);
    if (r) return r;
    deps.log.error({ err: { message: (err as Error).message, stack: (err as Error).stack }, path: c.req.path }, 'web request failed');
    return c.json({ error: 'internal', message: 'Something went wrong on the appliance; see its log.' }, 500);
  });
  app.notFound((c) => (c.req.path.startsWith('/api/') ? c.json({ error: 'no_route', message: 'There is no such API route.' }, 404) : c.text('Not found', 404)));

  // The gate first: a body is read only for whom may send it. Then the limit, counted as the body arrives
  // (chunked bodies too): photos come as multipart (web.maxRequestBytes), everything else is small JSON.
  app.use('/api/*', authGate(deps.auth));
  const limit = (maxSize: number): MiddlewareHandler<AppEnv> =>
    bodyLimit({
      maxSize,
      onError: (c) => c.json({ error: 'too_large', message: `The request is larger than ${humanBytes(maxSize)}, the most this appliance accepts.` }, 413),
    });
  const uploads = limit(deps.config.web.maxRequestBytes);
  const json = limit(Math.min(JSON_MAX_BYTES, deps.config.web.maxRequestBytes));
  const sized: MiddlewareHandler<AppEnv> = (c, next) => (/^multipart\/form-data/i.test(c.req.header('content-type') ?? '') ? uploads : json)(c, next);
  app.use('/api/*', sized);

  const api = apiRoutes(deps, { facts, captures });
  api.get('/openapi.json', (c) => c.json(openapi));
  app.route('/api', api);

  // Explicit fallbacks: they also hold when this app is mounted inside another (whose notFound would apply).
  const allowed = allowedMethods(app);
  app.all('/api/*', (c) => {
    const allow = allowed(c.req.path);
    if (allow.length === 0) return c.json({ error: 'no_route', message: 'There is no such API route.' }, 404);
    c.header('Allow', allow.join(', '));
    return c.json({ error: 'method_not_allowed', message: `${c.req.method} is not allowed here; this path takes ${allow.join(', ')}.` }, 405);
  });
  app.get('*', (c) => serveStatic(c, webDir));
  return app;
}
