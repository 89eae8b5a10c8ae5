/** API tokens for automation: listed without secrets, shown once at creation. */
import { Hono } from 'hono';
import type { AppDeps } from '../ports.js';
import type { AppEnv } from '../env.js';
import { fail, jsonBody, validId } from '../http.js';

export function tokenRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/tokens', (c) => c.json({ tokens: deps.auth.tokens() }));
  app.post('/tokens', async (c) => {
    const body = await jsonBody(c);
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    if (!name || name.length > 64) fail(400, 'bad_name', 'Give the token a name of 1 to 64 characters.');
    const { token, info } = await deps.auth.createToken(name);
    deps.log.info({ tokenId: info.id, name }, 'API token created');
    return c.json({ ...info, token }, 201);
  });
  app.delete('/tokens/:id', async (c) => {
    const id = validId(c.req.param('id'), 'token');
    if (!(await deps.auth.deleteToken(id))) fail(404, 'not_found', 'There is no such token.');
    return c.json({ ok: true });
  });
  return app;
}
