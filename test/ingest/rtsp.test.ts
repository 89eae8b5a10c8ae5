import { afterAll, describe, expect, it } from 'vitest';
import { Camera } from '../../src/ingest/camera.js';
import { Bus } from '../../src/util/bus.js';
import type { CameraStatus } from '../../src/pipeline/events.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { RtspServer, hasRtspServer } from '../helpers/rtsp.js';
import { waitFor } from './util.js';

describe.skipIf(!hasTestData || !hasRtspServer)('Camera over real RTSP', { timeout: 60_000 }, () => {
  const server = new RtspServer(dataPath('video/hamilton/short_hamilton_clip.mp4'));
  let cam: Camera | null = null;
  afterAll(async () => {
    await cam?.stop();
    await server.dispose();
  });

  it('reads frames, goes offline when the server dies and comes back by itself', async () => {
    await server.start();
    const bus = new Bus();
    const events: CameraStatus[] = [];
    bus.on('cameraStatus', (s) => events.push(s));
    cam = new Camera({ camera: { name: 'door', url: server.url, width: 320, fps: 5 }, bus, staleAfterSeconds: 4, maxBackoffSeconds: 2 });
    cam.start();

    let frame = cam.takeLatest();
    await waitFor(() => (frame = cam!.takeLatest()) !== null, 15_000, 'first RTSP frame');
    expect(frame!.image).toMatchObject({ width: 320, height: 180 });
    expect(cam.status.state).toBe('online');

    await server.stop();
    await waitFor(() => events.some((e) => e.state === 'offline'), 10_000, 'offline event');
    // ffmpeg sees the TCP connection close and ends, or fails to reconnect.
    expect(cam.status.lastError).toMatch(/ended|closed|refused/);

    const restartsBefore = cam.status.restarts;
    await server.restart();
    const n = events.length;
    await waitFor(() => events.slice(n).some((e) => e.state === 'online'), 20_000, 'back online');
    expect(cam.status.restarts).toBeGreaterThan(restartsBefore);
    const seqBefore = frame!.seq;
    cam.takeLatest();
    let after = cam.takeLatest();
    await waitFor(() => (after = cam!.takeLatest()) !== null, 5000, 'a fresh frame after the restart');
    expect(after!.seq).toBeGreaterThan(seqBefore); // numbering continues across ffmpeg restarts
    expect(after!.image).toMatchObject({ width: 320, height: 180 });
  });
});
