/**
 * Unauthenticated probe and scrape endpoints: GET /healthz (liveness), GET /readyz (readiness), GET /metrics.
 * Mount with `app.route('/', healthRoutes(...))` before any auth middleware.
 */
import { Hono } from 'hono';
import type { StorageState } from '../events/bus.js';
import type { CameraStatus } from '../events/types.js';
import { METRICS_CONTENT_TYPE, type Metrics } from '../metrics/metrics.js';

export interface Readiness {
  models: boolean;
  /** Ids of the detector and embedder models in use, once loaded. */
  engine?: { detector: string; embedder: string };
  cameras: CameraStatus[];
  broker: boolean;
  /** Whether the appliance can keep what it writes; without it, taken as ok. */
  storage?: StorageState;
}

export interface HealthDeps {
  ready: () => Readiness | Promise<Readiness>;
  metrics: Metrics;
}

export interface ReadyBody {
  status: 'ready' | 'not ready';
  /** storage: false while the disk is full or failing (reported, not a reason to be unready: live recognition goes on). */
  checks: { models: boolean; broker: boolean; storage: boolean };
  /** Why a check failed, one sentence each. */
  reasons?: string[];
  engine?: { detector: string; embedder: string };
  cameras: Array<Pick<CameraStatus, 'camera' | 'state' | 'fps' | 'lastFrameTime' | 'restarts' | 'lastError'>>;
}

export function healthRoutes(deps: HealthDeps): Hono {
  const app = new Hono();
  // Liveness: the process answers HTTP. Nothing else is checked (a dead camera must not restart the service).
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  // Readiness: models loaded and broker connected. Cameras and storage are reported, not required.
  app.get('/readyz', async (c) => {
    const r = await deps.ready();
    const ok = r.models && r.broker;
    const storage = r.storage ?? { ok: true };
    const body: ReadyBody = {
      status: ok ? 'ready' : 'not ready',
      checks: { models: r.models, broker: r.broker, storage: storage.ok },
      ...(storage.ok ? {} : { reasons: [storage.reason] }),
      ...(r.engine ? { engine: r.engine } : {}),
      cameras: r.cameras.map(({ camera, state, fps, lastFrameTime, restarts, lastError }) => ({ camera, state, fps, lastFrameTime, restarts, lastError })),
    };
    return c.json(body, ok ? 200 : 503);
  });
  app.get('/metrics', async (c) => {
    const text = await deps.metrics.metricsText();
    return c.body(text, 200, { 'Content-Type': METRICS_CONTENT_TYPE });
  });
  return app;
}
