/** The enrolment service's recent changes (corrections, group naming, dismissals, photos, renames) and their Undo. */
import { Hono } from 'hono';
import type { AppDeps } from '../ports.js';
import type { AppEnv } from '../env.js';
import { validId } from '../http.js';

export function changeRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { enrol } = deps;

  app.get('/changes', (c) => c.json({ changes: enrol.changes() }));

  app.post('/changes/:id/undo', async (c) => c.json({ ok: true, change: await enrol.undo(validId(c.req.param('id'), 'change')) }));

  return app;
}
