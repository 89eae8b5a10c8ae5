/**
 * Stored camera credentials reach ffmpeg: an MJPEG camera that demands HTTP Basic auth (a real node server, real
 * ffmpeg). The cameras unit puts the secrets file's user info back into a `{secret:name}` URL at start-up, and
 * a Test of a change with the password left masked uses the stored one; without it the camera says 401.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { camerasUnit } from '../src/app/units/cameras.js';
import { CameraAdmin } from '../src/app/camera-admin.js';
import { Slot } from '../src/app/unit.js';
import { configSchema } from '../src/config/schema.js';
import { Bus } from '../src/events/bus.js';
import type { Camera } from '../src/ingest/camera.js';
import type { CameraSet } from '../src/ingest/camera-set.js';
import { Metrics } from '../src/metrics/metrics.js';
import type { CameraSecrets } from '../src/store/camera-secrets.js';
import { captureLogger, waitFor } from './ingest/util.js';

const AUTH = `Basic ${Buffer.from('viewer:hunter22').toString('base64')}`;

describe('camera credentials from the secrets file', () => {
  let server: http.Server;
  let port = 0;
  let dir: string;
  let jpeg: Buffer;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'facegate-camcred-'));
    jpeg = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 90, g: 140, b: 200 } } })
      .jpeg()
      .toBuffer();
    // An MJPEG camera behind HTTP Basic auth: a frame every 100 ms until the client goes away.
    server = http.createServer((req, res) => {
      if (req.headers.authorization !== AUTH) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'multipart/x-mixed-replace; boundary=frame' });
      const send = () =>
        res.write(Buffer.concat([Buffer.from(`--frame\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`), jpeg, Buffer.from('\r\n')]));
      send();
      const t = setInterval(send, 100);
      res.on('close', () => clearInterval(t));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('a placeholder URL opens with the stored user info; the same URL without a secret is refused with 401', async () => {
    await writeFile(path.join(dir, 'camera-secrets.json'), JSON.stringify({ gate: 'viewer:hunter22' }), { mode: 0o600 });
    const config = configSchema.parse({
      dataDir: dir,
      cameras: [
        { name: 'gate', url: `http://{secret:gate}@127.0.0.1:${port}/video` },
        { name: 'side', url: `http://{secret:side}@127.0.0.1:${port}/video` },
      ],
      pipeline: { maxBackoffSeconds: 30 },
    });
    const { log, lines } = captureLogger();
    const cameras = new Slot<Camera[]>('cameras');
    const set = new Slot<{ set: CameraSet; secrets: CameraSecrets }>('camera set');
    const unit = camerasUnit(config, { bus: new Bus(), log, metrics: new Metrics() }, { cameras, set });
    await unit.start();
    try {
      const byName = (n: string) => cameras.get().find((c) => c.name === n)!;
      await waitFor(() => byName('gate').status.state === 'online', 20_000, 'the camera with its credentials online');
      expect(byName('gate').frameSize).toEqual({ width: 640, height: 480 });
      await waitFor(() => byName('side').status.lastError !== null, 20_000, 'the camera without credentials refused');
      expect(byName('side').status.lastError).toBe('the camera refused the user name or password (401 Unauthorized)');

      // Test of a change with the password masked: the stored one is used; a wrong one gets the 401 sentence.
      const admin = new CameraAdmin({ file: null, config, ...set.get(), endTracks: () => {}, log });
      const kept = await admin.test({ url: `http://viewer:********@127.0.0.1:${port}/video`, width: 160 }, 'gate');
      expect(kept.ok && [kept.image.width, kept.image.height, kept.source.codec]).toEqual([160, 120, 'mjpeg']);
      const wrong = await admin.test({ url: `http://viewer:guess@127.0.0.1:${port}/video` }, 'gate');
      expect(wrong).toEqual({ ok: false, error: 'The camera refused the user name or password (401 Unauthorized).' });
      expect(JSON.stringify(lines)).not.toContain('hunter22');
    } finally {
      await unit.stop();
    }
  }, 60_000);
});
