/** GET /api/storage: whether the appliance can keep what it writes (the page's banner reads it). */
import { Hono } from 'hono';
import type { AppDeps } from '../ports.js';
import type { AppEnv } from '../env.js';

export function storageRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/storage', (c) => {
    const s = deps.storage?.state ?? { ok: true as const };
    return c.json(s.ok ? { ok: true } : { ok: false, code: s.code, since: s.since, reason: s.reason });
  });
  return app;
}
