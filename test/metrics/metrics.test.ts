import { Hono } from 'hono';
import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/metrics/metrics.js';
import { Bus } from '../../src/events/bus.js';
import { Admission, BusyError } from '../../src/engine/admission.js';
import type { CameraStatus } from '../../src/events/types.js';
import { healthRoutes, type Readiness, type ReadyBody } from '../../src/web/health.js';

const cam = (camera: string, state: CameraStatus['state'], fps: number, restarts = 0): CameraStatus => ({
  camera,
  state,
  fps,
  lastFrameTime: state === 'online' ? new Date().toISOString() : null,
  restarts,
  framesDropped: 0,
  lastError: state === 'offline' ? 'Connection refused' : null,
});

/** The value of one sample line, e.g. sample(text, 'facegate_camera_fps{camera="door"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Metrics', () => {
  it('records pipeline observations as Prometheus text', async () => {
    const m = new Metrics({ processMetrics: false });
    const stages = [0.004, 0.012, 0.2];
    for (const s of stages) m.stage('detect', s);
    m.stage('embed', 0.03);
    m.batch('embedder', 7);
    m.batch('embedder', 33);
    m.batch('detector', 2);
    m.faces(5);
    m.faces(0);
    m.faces(3);
    m.framesDropped('door', 4);
    m.framesDropped('garage', 1);
    m.framesDropped('door', 2);
    m.eventLatency(0.3);
    const t = await m.metricsText();
    expect(t).toContain('# TYPE facegate_stage_seconds histogram');
    expect(sample(t, 'facegate_stage_seconds_count{stage="detect"}')).toBe(3);
    expect(sample(t, 'facegate_stage_seconds_sum{stage="detect"}')).toBeCloseTo(
      stages.reduce((a, b) => a + b),
      9,
    );
    expect(sample(t, 'facegate_stage_seconds_bucket{le="0.005",stage="detect"}')).toBe(1);
    expect(sample(t, 'facegate_stage_seconds_bucket{le="0.25",stage="detect"}')).toBe(3);
    expect(sample(t, 'facegate_batch_size_count{model="embedder"}')).toBe(2);
    expect(sample(t, 'facegate_batch_size_bucket{le="8",model="embedder"}')).toBe(1);
    expect(sample(t, 'facegate_batch_size_sum{model="embedder"}')).toBe(40);
    expect(sample(t, 'facegate_faces_processed_total')).toBe(8);
    expect(sample(t, 'facegate_frames_dropped_total{camera="door"}')).toBe(6);
    expect(sample(t, 'facegate_frames_dropped_total{camera="garage"}')).toBe(1);
    expect(sample(t, 'facegate_event_latency_seconds_count')).toBe(1);
  });

  it('reads cameras, broker and queue at scrape time, and reports the provider', async () => {
    let cameras = [cam('door', 'online', 4.5, 1), cam('garage', 'offline', 0, 7)];
    let connected = false;
    let queued = 12;
    const m = new Metrics({ processMetrics: false, sources: { cameras: () => cameras, brokerConnected: () => connected, eventsQueued: () => queued } });
    m.executionProvider('cpu');
    m.eventPublished();
    m.eventPublished(2);
    m.eventDropped();
    let t = await m.metricsText();
    expect(sample(t, 'facegate_camera_fps{camera="door"}')).toBe(4.5);
    expect(sample(t, 'facegate_camera_online{camera="door"}')).toBe(1);
    expect(sample(t, 'facegate_camera_online{camera="garage"}')).toBe(0);
    expect(sample(t, 'facegate_camera_restarts{camera="garage"}')).toBe(7);
    expect(sample(t, 'facegate_broker_connected')).toBe(0);
    expect(sample(t, 'facegate_events_queued')).toBe(12);
    expect(sample(t, 'facegate_events_published_total')).toBe(3);
    expect(sample(t, 'facegate_events_dropped_total')).toBe(1);
    expect(sample(t, 'facegate_execution_provider{provider="cpu"}')).toBe(1);

    cameras = [cam('door', 'offline', 0, 2)];
    connected = true;
    queued = 0;
    m.executionProvider('cuda');
    t = await m.metricsText();
    expect(sample(t, 'facegate_camera_online{camera="door"}')).toBe(0);
    expect(sample(t, 'facegate_camera_restarts{camera="door"}')).toBe(2);
    expect(sample(t, 'facegate_camera_fps{camera="garage"}')).toBeUndefined();
    expect(sample(t, 'facegate_broker_connected')).toBe(1);
    expect(sample(t, 'facegate_events_queued')).toBe(0);
    expect(sample(t, 'facegate_execution_provider{provider="cuda"}')).toBe(1);
    expect(sample(t, 'facegate_execution_provider{provider="cpu"}')).toBeUndefined();
  });

  it('follows camera status and broker connection from the bus', async () => {
    const bus = new Bus();
    const m = new Metrics({ processMetrics: false });
    const off = m.attach(bus);
    bus.emit('cameraStatus', cam('porch', 'online', 2.5, 4));
    bus.emit('mqttConnection', { connected: true });
    let t = await m.metricsText();
    expect(sample(t, 'facegate_camera_fps{camera="porch"}')).toBe(2.5);
    expect(sample(t, 'facegate_camera_restarts{camera="porch"}')).toBe(4);
    expect(sample(t, 'facegate_broker_connected')).toBe(1);
    off();
    bus.emit('mqttConnection', { connected: false });
    t = await m.metricsText();
    expect(sample(t, 'facegate_broker_connected')).toBe(1);
  });

  it("reports the matcher's operating point for the facebank size", async () => {
    const bus = new Bus();
    const m = new Metrics({ processMetrics: false });
    const off = m.attach(bus);
    bus.emit('operatingPoint', { threshold: 0.52, people: 120, targetFpir: 1e-3, source: 'facebank-size' });
    let t = await m.metricsText();
    expect(sample(t, 'facegate_match_threshold{source="facebank-size"}')).toBe(0.52);
    expect(sample(t, 'facegate_match_people')).toBe(120);
    expect(sample(t, 'facegate_match_target_fpir')).toBe(0.001);
    bus.emit('operatingPoint', { threshold: 0.6, people: 121, targetFpir: null, source: 'config' });
    t = await m.metricsText();
    expect(sample(t, 'facegate_match_threshold{source="config"}')).toBe(0.6);
    expect(sample(t, 'facegate_match_threshold{source="facebank-size"}')).toBeUndefined();
    expect(sample(t, 'facegate_match_target_fpir')).toBe(0);
    off();
  });

  it('reports the heavy-job admission queue: running, queued and refused', async () => {
    const admission = new Admission({ concurrency: 1, maxQueued: 2 });
    const m = new Metrics({ processMetrics: false });
    m.setSources({ admission: () => admission.stats });
    const release: Array<() => void> = [];
    const job = () => admission.run(() => new Promise<void>((r) => release.push(r)));
    const jobs = [job(), job(), job()];
    await expect(job()).rejects.toBeInstanceOf(BusyError);
    let t = await m.metricsText();
    expect(sample(t, 'facegate_heavy_jobs{state="running"}')).toBe(1);
    expect(sample(t, 'facegate_heavy_jobs{state="queued"}')).toBe(2);
    expect(sample(t, 'facegate_heavy_jobs_refused_total')).toBe(1);

    // Each finished job hands its slot to the next one waiting, until none is left.
    while (release.length || admission.stats.running) {
      const next = release.shift();
      if (next) next();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(jobs);
    t = await m.metricsText();
    expect(sample(t, 'facegate_heavy_jobs{state="running"}')).toBe(0);
    expect(sample(t, 'facegate_heavy_jobs{state="queued"}')).toBe(0);
    expect(sample(t, 'facegate_heavy_jobs_refused_total')).toBe(1);
  });

  it('uses its own registry, with process metrics, and two instances do not collide', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.faces(2);
    expect(sample(await a.metricsText(), 'facegate_faces_processed_total')).toBe(2);
    expect(sample(await b.metricsText(), 'facegate_faces_processed_total')).toBe(0);
    expect(await a.metricsText()).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(await a.metricsText()).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    expect(await globalRegistry.metrics()).not.toContain('facegate_');
  });
});

describe('health routes', () => {
  const build = (r: Readiness) => {
    const metrics = new Metrics({ processMetrics: false });
    metrics.faces(1);
    const app = new Hono();
    app.use('/api/*', async (c) => c.text('auth required', 401)); // the admin API's auth must not cover probes
    app.route('/', healthRoutes({ ready: () => r, metrics }));
    return app;
  };

  it('/healthz is always ok', async () => {
    const res = await build({ models: false, broker: false, cameras: [] }).request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz is 200 with models and broker, listing cameras', async () => {
    const res = await build({ models: true, broker: true, cameras: [cam('door', 'online', 5), cam('garage', 'offline', 0, 3)] }).request('/readyz');
    expect(res.status).toBe(200);
    const body = (await res.json()) as ReadyBody;
    expect(body.status).toBe('ready');
    expect(body.checks).toEqual({ models: true, broker: true, storage: true });
    expect(body.cameras.map((c) => [c.camera, c.state, c.restarts])).toEqual([
      ['door', 'online', 0],
      ['garage', 'offline', 3],
    ]);
    expect(body.cameras[1]!.lastError).toBe('Connection refused');
  });

  it.each([
    [
      { models: false, broker: true },
      { models: false, broker: true },
    ],
    [
      { models: true, broker: false },
      { models: true, broker: false },
    ],
    [
      { models: false, broker: false },
      { models: false, broker: false },
    ],
  ])('/readyz is 503 when a check fails (%j)', async (r, checks) => {
    const res = await build({ ...r, cameras: [] }).request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'not ready', checks });
  });

  it('/readyz says why when the disk is full, and stays 200 (live recognition goes on)', async () => {
    const reason = 'The disk holding /var/lib/facegate is full (ENOSPC): free space.';
    const storage = { ok: false as const, code: 'ENOSPC', since: new Date().toISOString(), files: ['/var/lib/facegate/events.jsonl'], reason };
    const res = await build({ models: true, broker: true, cameras: [], storage }).request('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ready', checks: { models: true, broker: true, storage: false }, reasons: [reason] });
  });

  it('facegate_storage_writable follows its source', async () => {
    let ok = true;
    const metrics = new Metrics({ processMetrics: false, sources: { storageWritable: () => ok } });
    expect(sample(await metrics.metricsText(), 'facegate_storage_writable')).toBe(1);
    ok = false;
    expect(sample(await metrics.metricsText(), 'facegate_storage_writable')).toBe(0);
  });

  it('/metrics serves the Prometheus text format', async () => {
    const res = await build({ models: true, broker: true, cameras: [] }).request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(sample(text, 'facegate_faces_processed_total')).toBe(1);
  });
});
