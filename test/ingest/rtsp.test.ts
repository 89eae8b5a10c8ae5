/**
 * A camera against a real GStreamer RTSP server that is killed (SIGKILL) and brought back: offline within
 * staleAfterSeconds, back within 10 s of the server's return even after a long outage (the backoff had grown),
 * and the status is re-announced with live figures while nothing changes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Camera } from '../../src/ingest/camera.js';
import { Bus } from '../../src/events/bus.js';
import type { CameraStatus } from '../../src/events/types.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { RtspServer, hasRtspServer } from '../helpers/rtsp.js';
import { waitFor } from './util.js';

const STALE_S = 4;

describe.skipIf(!hasTestData || !hasRtspServer)('Camera over real RTSP', { timeout: 90_000 }, () => {
  const server = new RtspServer(dataPath('video/hamilton/short_hamilton_clip.mp4'), 30);
  let cam: Camera | null = null;
  afterAll(async () => {
    await cam?.stop();
    await server.dispose();
  });

  it('reads frames, re-announces live status, goes offline when the server is killed and is back within 10 s of its return', async () => {
    await server.start();
    const bus = new Bus();
    const events: (CameraStatus & { at: number })[] = [];
    bus.on('cameraStatus', (s) => events.push({ ...s, at: Date.now() }));
    cam = new Camera({
      camera: { name: 'door', url: server.url, width: 320, fps: 5 },
      bus,
      staleAfterSeconds: STALE_S,
      maxBackoffSeconds: 30,
      statusIntervalSeconds: 1,
    });
    cam.start();

    let frame = cam.takeLatest();
    await waitFor(() => (frame = cam!.takeLatest()) !== null, 15_000, 'first RTSP frame');
    expect(frame!.image).toMatchObject({ width: 320, height: 180 });
    expect(cam.status.state).toBe('online');

    // With no state change, the status is announced again with live figures: fps measured, last frame advancing.
    const online = () => events.filter((e) => e.state === 'online');
    await waitFor(() => online().length >= 4, 10_000, 'periodic online announcements');
    const [a, b] = online().slice(-2);
    expect(b!.fps).toBeGreaterThan(2);
    expect(Date.parse(b!.lastFrameTime!)).toBeGreaterThan(Date.parse(a!.lastFrameTime!));

    const killedAt = Date.now();
    await server.stop();
    await waitFor(() => events.some((e) => e.state === 'offline' && e.at >= killedAt), STALE_S * 1000 + 2000, 'offline event');
    const offlineAt = events.find((e) => e.state === 'offline' && e.at >= killedAt)!.at;
    expect(offlineAt - killedAt).toBeLessThanOrEqual(STALE_S * 1000);
    expect(cam.status.lastError).toMatch(/ended|closed|refused|no frame/);

    // A long outage: the backoff grows to 16 s (1 + 2 + 4 + 8 s of waiting behind us).
    await waitFor(() => cam!.status.restarts >= 4, 40_000, 'four failed restarts');
    const restartsBefore = cam.status.restarts;
    const backAt = Date.now();
    await server.restart();
    await waitFor(() => events.some((e) => e.state === 'online' && e.at >= backAt), 10_000, 'back online within 10 s');
    expect(cam.status.restarts).toBeGreaterThan(restartsBefore);
    const seqBefore = frame!.seq;
    cam.takeLatest();
    let after = cam.takeLatest();
    await waitFor(() => (after = cam!.takeLatest()) !== null, 5000, 'a fresh frame after the restart');
    expect(after!.seq).toBeGreaterThan(seqBefore); // numbering continues across ffmpeg restarts
    expect(after!.image).toMatchObject({ width: 320, height: 180 });
  });

  it('control: without the source coming back a long backoff is waited out (no restart storm)', async () => {
    // A camera pointed at a port that never answers keeps its backoff: 1 + 2 + 4 s means at most 4 attempts in 9 s.
    const bus = new Bus();
    const c = new Camera({ camera: { name: 'never', url: 'rtsp://127.0.0.1:9/none' }, bus, maxBackoffSeconds: 30 });
    c.start();
    await waitFor(() => c.status.restarts >= 3, 15_000, 'three restarts');
    const at3 = Date.now();
    await waitFor(() => c.status.restarts >= 4, 15_000, 'the fourth restart');
    await c.stop();
    expect(Date.now() - at3).toBeGreaterThanOrEqual(7000); // the 8 s backoff, not the 1 s probe
  });
});
