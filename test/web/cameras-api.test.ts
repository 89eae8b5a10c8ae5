/**
 * The cameras API over app.request(): list, test, add, change, disable and remove, against a real config file,
 * real ffmpeg cameras and the GStreamer RTSP server; refusals with the path and the reason; scopes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createApp } from '../../src/web/app.js';
import { loadConfig } from '../../src/config/load.js';
import { CameraAdmin } from '../../src/app/camera-admin.js';
import { CameraSet } from '../../src/ingest/camera-set.js';
import { CameraSecrets } from '../../src/store/camera-secrets.js';
import type { CamerasPort } from '../../src/web/ports.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { hasRtspServer, RtspServer } from '../helpers/rtsp.js';
import { captureLogger, waitFor } from '../ingest/util.js';
import { buildDeps, type TestDeps } from './deps.js';
import { TestClient, testClientIp } from './client.js';

const PASSWORD = 'correct horse battery';
const clip = dataPath('video', 'hamilton', 'short_hamilton_clip.mp4');

describe.skipIf(!hasTestData || !hasRtspServer)('cameras API', () => {
  let d: TestDeps;
  let rtsp: RtspServer;
  let set: CameraSet;
  let file: string;
  let ended: string[];
  let logLines: Record<string, unknown>[];
  let app: ReturnType<typeof createApp>;
  let admin: TestClient;
  let removed: string[];

  beforeAll(async () => {
    rtsp = new RtspServer(clip, 10);
    d = await buildDeps({ password: PASSWORD });
    await rtsp.start();
    file = path.join(d.config.dataDir, 'facegate.yaml');
    await writeFile(file, `# the appliance\ndataDir: ${d.config.dataDir}\ncameras: [] # none yet\n`);
    const config = loadConfig(file, {});
    const secrets = new CameraSecrets(d.config.dataDir);
    await secrets.open();
    const { log, lines } = captureLogger();
    logLines = lines;
    set = new CameraSet({ defaultFps: 5, defaultWidth: 320, log });
    ended = [];
    const cameras: CamerasPort = { list: () => set.cameras.map((c) => c.status), latestFrame: () => null, latestFaces: () => [] };
    removed = [];
    d.bus.on('cameraRemoved', ({ camera }) => removed.push(camera));
    const cameraAdmin = new CameraAdmin({ file, config, set, secrets, endTracks: (c) => ended.push(c), bus: d.bus, log });
    app = createApp({ ...d, cameras, cameraAdmin, clientIp: testClientIp });
    admin = new TestClient(app);
    expect((await admin.signIn(PASSWORD)).status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await set?.stopAll();
    await rtsp?.dispose();
    await d?.cleanup();
  });

  const status = (name: string) => set.cameras.find((c) => c.name === name)?.status;

  it('lists the config source and (no) cameras', async () => {
    const r = await admin.req('GET', '/api/cameras');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ cameras: [], settings: [], config: { file, writable: true, reason: null } });
  });

  it('Test shows a frame, its size and fps before anything is saved', async () => {
    const before = await readFile(file, 'utf8');
    const r = await admin.req('POST', '/api/cameras/test', {
      json: { name: 'stage', url: rtsp.url.replace('rtsp://', 'rtsp://viewer:hunter22@'), width: 320 },
    });
    expect(r.status).toBe(200);
    const t = (await r.json()) as {
      ok: boolean;
      width: number;
      height: number;
      fps: number;
      source: { width: number; height: number; fps: number };
      image: string;
    };
    expect(t.ok).toBe(true);
    expect(t.width).toBe(320);
    // The clip is 16:9 (its own size from the stream header); the decoded frame keeps the aspect.
    expect(t.source.width! / t.source.height!).toBeCloseTo(16 / 9, 1);
    expect(t.height).toBe(Math.round((320 * t.source.height!) / t.source.width! / 2) * 2);
    expect(t.source.fps).toBeGreaterThan(0);
    expect(t.fps).toBe(5);
    expect(t.image).toMatch(/^data:image\/jpeg;base64,\/9j\//);
    expect(await readFile(file, 'utf8')).toBe(before);
    expect(set.cameras).toHaveLength(0);
  });

  it("Test of a wrong URL answers ffmpeg's error in one sentence, without the password", async () => {
    const r = await admin.req('POST', '/api/cameras/test', { json: { name: 'x', url: 'rtsp://viewer:hunter22@127.0.0.1:9/nothing' } });
    const t = (await r.json()) as { ok: boolean; error: string };
    expect(t).toEqual({ ok: false, error: 'Connection refused: nothing is listening at that address.' });
    const wrongPath = await admin.req('POST', '/api/cameras/test', { json: { name: 'x', url: rtsp.url.replace('/stream', '/nope') } });
    const w = (await wrongPath.json()) as { ok: boolean; error: string };
    expect(w.ok).toBe(false);
    expect(w.error).toMatch(/^[A-Z].*\.$/);
    expect(w.error).not.toContain('\n');
  });

  it('adds a camera: saved, started at once, password masked in every answer and log', async () => {
    const r = await admin.req('POST', '/api/cameras', { json: { name: 'stage', url: rtsp.url.replace('rtsp://', 'rtsp://viewer:hunter22@'), width: 320 } });
    expect(r.status).toBe(201);
    const body = await r.json();
    expect(body).toEqual({
      camera: {
        name: 'stage',
        url: rtsp.url.replace('rtsp://', 'rtsp://viewer:********@'),
        enabled: true,
        loop: false,
        fps: null,
        width: 320,
        inputOptions: [],
      },
    });
    await waitFor(() => status('stage')?.state === 'online', 30_000, 'the new camera online');
    const text = await readFile(file, 'utf8');
    expect(text).toContain('# the appliance');
    expect(text).not.toContain('hunter22');
    const list = JSON.stringify(await (await admin.req('GET', '/api/cameras')).json());
    expect(list).toContain('"state":"online"');
    expect(list).not.toContain('hunter22');
    expect(JSON.stringify(logLines)).not.toContain('hunter22');
    const again = await admin.req('POST', '/api/cameras', { json: { name: 'stage', url: rtsp.url } });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: 'conflict', message: 'There is already a camera called "stage"; choose another name.' });
  }, 60_000);

  it('refuses a change the schema refuses with the path and the reason; nothing changes', async () => {
    const before = await readFile(file, 'utf8');
    const running = set.cameras[0];
    const r = await admin.req('PATCH', '/api/cameras/stage', { json: { fps: 90 } });
    expect(r.status).toBe(422);
    const e = (await r.json()) as { error: string; message: string };
    expect(e.error).toBe('config_refused');
    expect(e.message).toMatch(/^The camera was not saved: cameras\[0\]\.fps: .*30/);
    const unknown = await admin.req('PATCH', '/api/cameras/stage', { json: { colour: 'red' } });
    expect(await unknown.json()).toEqual({ error: 'config_refused', message: 'The camera was not saved: cameras[0].colour: unknown option.' });
    expect(await readFile(file, 'utf8')).toBe(before);
    expect(set.cameras[0]).toBe(running);
    expect((await admin.req('PATCH', '/api/cameras/nobody', { json: { fps: 2 } })).status).toBe(404);
    expect((await admin.req('PATCH', '/api/cameras/Not%20A%20Name', { json: { fps: 2 } })).status).toBe(400);
  });

  it('a read token may list but not change; a change needs the CSRF header', async () => {
    const { token } = await d.auth.createToken('viewer', { scope: 'read' });
    const reader = new TestClient(app);
    reader.bearer = token;
    expect((await reader.req('GET', '/api/cameras')).status).toBe(200);
    const put = await reader.req('PATCH', '/api/cameras/stage', { json: { enabled: false } });
    expect(put.status).toBe(403);
    expect(await put.json()).toMatchObject({ error: 'read_only' });
    expect((await reader.req('POST', '/api/cameras/test', { json: { url: rtsp.url } })).status).toBe(403);
    expect((await admin.req('DELETE', '/api/cameras/stage', { csrf: false })).status).toBe(403);
    expect(set.cameras.map((c) => c.name)).toEqual(['stage']);
  });

  it('disables, re-enables and removes; each time only that camera restarts and its tracks end', async () => {
    const off = await admin.req('PATCH', '/api/cameras/stage', { json: { enabled: false } });
    expect(off.status).toBe(200);
    expect(((await off.json()) as { camera: { enabled: boolean; url: string } }).camera).toMatchObject({
      enabled: false,
      url: expect.stringContaining('viewer:********@') as unknown,
    });
    expect(set.cameras).toHaveLength(0);
    expect(ended).toEqual(['stage']);
    expect(removed).toEqual([]); // disabled, it is still a camera (offline)
    expect(await readFile(file, 'utf8')).toMatch(/enabled: false/);

    const on = await admin.req('PATCH', '/api/cameras/stage', { json: { enabled: true, fps: 2 } });
    expect(on.status).toBe(200);
    await waitFor(() => status('stage')?.state === 'online', 30_000, 'the camera online again');

    const del = await admin.req('DELETE', '/api/cameras/stage');
    expect(del.status).toBe(200);
    expect(set.cameras).toHaveLength(0);
    expect(ended).toEqual(['stage', 'stage', 'stage']);
    // Removed: MQTT and Home Assistant are told, so its status and entities go.
    expect(removed).toEqual(['stage']);
    expect(await (await admin.req('GET', '/api/cameras')).json()).toMatchObject({ settings: [], cameras: [] });
    expect(loadConfig(file, {}).cameras).toEqual([]);
  }, 60_000);

  it('without a config file every change is refused with a sentence that says how', async () => {
    const other = await buildDeps({ password: PASSWORD });
    try {
      const secrets = new CameraSecrets(other.config.dataDir);
      const { log } = captureLogger();
      const s = new CameraSet({ log });
      const a = createApp({
        ...other,
        cameraAdmin: new CameraAdmin({ file: null, config: other.config, set: s, secrets, endTracks: () => {}, log }),
        clientIp: testClientIp,
      });
      const c = new TestClient(a);
      await c.signIn(PASSWORD);
      const list = (await (await c.req('GET', '/api/cameras')).json()) as { config: { writable: boolean; reason: string } };
      expect(list.config.writable).toBe(false);
      expect(list.config.reason).toMatch(/^The appliance runs on its built-in defaults .*--config <file>.*\.$/);
      const r = await c.req('POST', '/api/cameras', { json: { name: 'gate', url: 'rtsp://h/x' } });
      expect(r.status).toBe(409);
      expect(await r.json()).toMatchObject({ error: 'config_not_writable', message: list.config.reason });
    } finally {
      await other.cleanup();
    }
  });
});
