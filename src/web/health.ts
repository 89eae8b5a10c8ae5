/**
 * Unauthenticated probe and scrape endpoints: GET /healthz (liveness), GET /readyz (readiness), GET /metrics.
 * Mount with `app.route('/', healthRoutes(...))` before any auth middleware.
 */
import { Hono } from 'hono';
import type { CameraStatus } from '../events/types.js';
import { METRICS_CONTENT_TYPE, type Metrics } from '../metrics/metrics.js';

export interface Readiness {
  models: boolean;
  /** Ids of the detector and embedder models in use, once loaded. */
  engine?: { detector: string; embedder: string };
  cameras: CameraStatus[];
  broker: boolean;
}

export interface HealthDeps {
  ready: () => Readiness | Promise<Readiness>;
  metrics: Metrics;
}

export interface ReadyBody {
  status: 'ready' | 'not ready';
  checks: { models: boolean; broker: boolean };
  engine?: { detector: string; embedder: string };
  cameras: Array<Pick<CameraStatus, 'camera' | 'state' | 'fps' | 'lastFrameTime' | 'restarts' | 'lastError'>>;
}

export function healthRoutes(deps: HealthDeps): Hono {
  const app = new Hono();
  // Liveness: the process answers HTTP. Nothing else is checked (a dead camera must not restart the service).
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  // Readiness: models loaded and broker connected. Cameras are reported, not required.
  app.get('/readyz', async (c) => {
    const r = await deps.ready();
    const ok = r.models && r.broker;
    const body: ReadyBody = {
      status: ok ? 'ready' : 'not ready',
      checks: { models: r.models, broker: r.broker },
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
