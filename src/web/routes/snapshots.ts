/** Snapshot JPEGs (the face picture kept with an event or an unknown face), served from the data folder. */
import { Hono } from 'hono';
import type { AppDeps } from '../ports.js';
import type { AppEnv } from '../env.js';
import { fail } from '../http.js';
import { jpeg, readInside } from '../files.js';
import { ID_PATTERN } from '../../util/ids.js';

const SNAPSHOT_FILE = new RegExp(`^(${ID_PATTERN})\\.jpg$`);

export function snapshotRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/snapshots/:file', async (c) => {
    const m = SNAPSHOT_FILE.exec(c.req.param('file'));
    if (!m) fail(400, 'bad_id', 'That is not a valid snapshot id.');
    return jpeg(await readInside(deps.config.dataDir, await deps.snapshots.path(m![1]!)));
  });
  return app;
}
