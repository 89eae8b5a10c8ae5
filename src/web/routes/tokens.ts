/** API tokens for automation: listed without secrets, shown once at creation; a scope and an expiry each. */
import { Hono } from 'hono';
import type { AppDeps } from '../ports.js';
import type { AppEnv } from '../env.js';
import { fail, readJson, validId } from '../http.js';
import { createTokenBody } from '../api-schemas.js';

export function tokenRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/tokens', (c) => c.json({ tokens: deps.auth.tokens() }));
  app.post('/tokens', async (c) => {
    if (c.get('scope') !== 'admin') fail(403, 'admin_required', 'Only an admin can create tokens.');
    const { name, scope, days } = await readJson(c, createTokenBody, {
      name: ['bad_name', 'Give the token a name of 1 to 64 visible characters.'],
      scope: ['bad_scope', 'scope is "read" (look only) or "admin" (everything).'],
      days: ['bad_expiry', 'days is a whole number from 1 to 3650, or null for a token that never expires.'],
    });
    const { token, info } = await deps.auth.createToken(name, { scope, days });
    deps.log.info({ tokenId: info.id, name, scope: info.scope, expires: info.expires }, 'API token created');
    return c.json({ ...info, token }, 201);
  });
  app.delete('/tokens/:id', async (c) => {
    if (c.get('scope') !== 'admin') fail(403, 'admin_required', 'Only an admin can revoke tokens.');
    const id = validId(c.req.param('id'), 'token');
    if (!(await deps.auth.deleteToken(id))) fail(404, 'not_found', 'There is no such token.');
    return c.json({ ok: true });
  });
  return app;
}
