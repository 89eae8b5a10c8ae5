import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Camera } from '../../src/ingest/camera.js';
import { Bus } from '../../src/events/bus.js';
import type { CameraStatus } from '../../src/events/types.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { freePort } from '../helpers/ports.js';
import { captureLogger, cutClip, waitFor } from './util.js';

const CLIP = dataPath('video/hamilton/short_hamilton_clip.mp4'); // 640x360, 10 s
let tmp = '';
let short = '';
const cams: Camera[] = [];
const make = (...a: ConstructorParameters<typeof Camera>) => {
  const c = new Camera(...a);
  cams.push(c);
  return c;
};

describe.skipIf(!hasTestData)('Camera (real ffmpeg, file sources)', { timeout: 30_000 }, () => {
  beforeAll(() => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'facegate-cam-'));
    short = path.join(tmp, 'short.mp4');
    cutClip(CLIP, 1.5, short);
  });
  afterAll(async () => {
    await Promise.all(cams.map((c) => c.stop()));
    rmSync(tmp, { recursive: true, force: true });
  });

  it('decodes a file to rgb24 frames of the configured width and the source aspect ratio', async () => {
    const cam = make({ camera: { name: 'file', url: CLIP, width: 320, fps: 5 } });
    cam.start();
    let frame = cam.takeLatest();
    await waitFor(() => (frame = cam.takeLatest()) !== null, 10_000, 'a frame');
    expect(frame!.image.width).toBe(320);
    expect(frame!.image.height).toBe((320 * 360) / 640);
    expect(frame!.image.data.length).toBe(320 * 180 * 3);
    expect(Math.abs(frame!.time - Date.now())).toBeLessThan(5000);
    // A real picture, not a blank buffer.
    const d = frame!.image.data;
    let min = 255,
      max = 0;
    for (let i = 0; i < d.length; i += 97) {
      min = Math.min(min, d[i]!);
      max = Math.max(max, d[i]!);
    }
    expect(max - min).toBeGreaterThan(50);
    expect(cam.takeLatest()).toBeNull(); // taken already
    expect(cam.status.state).toBe('online');
    await cam.stop();
    expect(cam.status.state).toBe('offline');
  });

  it('a non-looped file ends: offline with "end of file", ended notified, not restarted', async () => {
    const bus = new Bus();
    const seen: CameraStatus[] = [];
    bus.on('cameraStatus', (s) => seen.push(s));
    const cam = make({ camera: { name: 'once', url: short, width: 160, fps: 10 }, bus, maxBackoffSeconds: 1 });
    cam.start();
    await cam.waitEnded();
    expect(cam.status).toMatchObject({ state: 'offline', lastError: 'end of file', restarts: 0 });
    expect(seen.map((s) => s.state)).toEqual(['starting', 'online', 'offline']);
    await new Promise((r) => setTimeout(r, 1500));
    expect(cam.status.restarts).toBe(0);
    expect(seen.length).toBe(3);
  });

  it('a looped file keeps producing frames past its end', async () => {
    const cam = make({ camera: { name: 'loop', url: short, loop: true, width: 160, fps: 10 } });
    cam.start();
    let last = 0;
    // 1.5 s clip at 10 fps = 15 frames; ask for clearly more than two passes.
    await waitFor(() => ((last = cam.takeLatest()?.seq ?? last), last > 35), 15_000, 'frames past the end');
    expect(cam.status).toMatchObject({ state: 'online', restarts: 0, lastError: null });
    expect(cam.status.fps).toBeGreaterThan(5);
  });

  it('newest-frame semantics: a slow consumer gets the newest frame, the rest count as dropped, memory stays bounded', async () => {
    const cam = make({ camera: { name: 'slow', url: CLIP, loop: true, width: 320, fps: 20 } });
    cam.start();
    let taken = 0;
    let lastSeq = 0;
    // Polls as a slow consumer would until it has taken 4 frames (ffmpeg may start slowly on a loaded machine).
    for (let i = 0; taken < 4 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 600));
      const f = cam.takeLatest();
      if (!f) continue;
      expect(f.seq).toBeGreaterThan(lastSeq);
      lastSeq = f.seq;
      taken++;
      // Every frame decoded so far was either taken or dropped.
      expect(cam.status.framesDropped).toBe(f.seq - taken);
      expect(cam.heldBytes).toBeLessThanOrEqual(320 * 180 * 3 * 2);
    }
    expect(taken).toBeGreaterThanOrEqual(3);
    expect(cam.status.framesDropped).toBeGreaterThan(taken);
  });

  it('wrong sources go offline with a clear reason, logged once, while another camera keeps working', async () => {
    const { log, lines } = captureLogger();
    const bus = new Bus();
    const offline = new Map<string, CameraStatus>();
    bus.on('cameraStatus', (s) => s.state === 'offline' && offline.set(s.camera, s));
    const port = await freePort();
    // A real HTTP server that refuses one path (401) and lacks the other (404).
    const web = http.createServer((req, res) => {
      res.writeHead(req.url === '/secret.mjpg' ? 401 : 404, { 'www-authenticate': 'Basic realm="cam"' });
      res.end();
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    const webPort = (web.address() as AddressInfo).port;
    const unauth = make({ camera: { name: 'unauth', url: `http://viewer:letmein@127.0.0.1:${webPort}/secret.mjpg` }, bus, log, maxBackoffSeconds: 1 });
    const notfound = make({ camera: { name: 'notfound', url: `http://127.0.0.1:${webPort}/nope.mjpg` }, bus, log, maxBackoffSeconds: 1 });
    const refused = make({ camera: { name: 'refused', url: `rtsp://admin:hunter2@127.0.0.1:${port}/x` }, bus, log, maxBackoffSeconds: 1 });
    const missing = make({ camera: { name: 'missing', url: path.join(tmp, 'no-such.mp4') }, bus, log, maxBackoffSeconds: 1 });
    const good = make({ camera: { name: 'good', url: CLIP, loop: true, width: 160, fps: 5 }, bus, log });
    for (const c of [refused, missing, unauth, notfound, good]) c.start();
    const bad = [refused, missing, unauth, notfound];
    await waitFor(() => bad.every((c) => c.status.restarts >= 2), 20_000, 'two retries each');
    web.close();
    await waitFor(() => offline.has('refused') && offline.has('missing'), 5000, 'offline events');

    expect(refused.status.lastError).toMatch(/connection refused/i);
    expect(missing.status.lastError).toMatch(/no such file/i);
    expect(unauth.status.lastError).toMatch(/401 Unauthorized/);
    expect(notfound.status.lastError).toMatch(/404 Not Found/);
    expect(offline.get('refused')!.lastError).toMatch(/connection refused/i);
    for (const name of ['refused', 'missing', 'unauth', 'notfound']) {
      const warned = lines.filter((l) => l.camera === name && l.level === 40);
      expect(warned.length).toBe(1);
    }
    expect(JSON.stringify(lines)).not.toContain('hunter2');
    expect(JSON.stringify(lines)).not.toContain('letmein');
    expect(good.status.state).toBe('online');
    expect(good.takeLatest()).not.toBeNull();
  });

  it('a source that stalls without frames is killed after staleAfterSeconds and retried', async () => {
    // Accepts the connection and never answers: ffmpeg would wait forever.
    const sockets: net.Socket[] = [];
    const mute = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
    const port = (mute.address() as AddressInfo).port;
    const cam = make({ camera: { name: 'stall', url: `http://127.0.0.1:${port}/stream.mjpg` }, staleAfterSeconds: 1, maxBackoffSeconds: 1, killGraceMs: 500 });
    cam.start();
    // ffmpeg may start slower than the 1 s stale limit on a loaded machine: wait for a connection and a restart.
    await waitFor(() => cam.status.restarts >= 1 && sockets.length >= 1, 30_000, 'a connection, then a restart after the stall');
    expect(cam.status.lastError).toMatch(/no frame for 1 s/);
    expect(sockets.length).toBeGreaterThanOrEqual(1);
    await cam.stop();
    for (const s of sockets) s.destroy();
    mute.close();
  });
});
