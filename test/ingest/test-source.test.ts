/** "Test" of a camera source with the appliance's own ffmpeg options: one frame and its sizes, or one sentence why not. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { testSource } from '../../src/ingest/test-source.js';
import { dataPath, hasTestData } from '../helpers/data.js';

const clip = dataPath('video', 'hamilton', 'short_hamilton_clip.mp4');

describe.skipIf(!hasTestData)('testSource (real ffmpeg)', () => {
  let silent: net.Server;
  let silentPort = 0;
  const held: net.Socket[] = [];

  beforeAll(async () => {
    // Accepts connections and never answers: a camera that hangs.
    silent = net.createServer((s) => void held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentPort = (silent.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of held) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  it('decodes the first frame at the configured width and reports the source size, fps and codec', async () => {
    const r = await testSource({ camera: { name: 't', url: clip, width: 320 }, defaultFps: 5, defaultWidth: 640 });
    if (!r.ok) throw new Error(r.error);
    expect(r.image.width).toBe(320);
    expect(r.image.data.length).toBe(r.image.width * r.image.height * 3);
    expect(r.source.codec).toBe('h264');
    expect(r.image.height).toBe(Math.round((320 * r.source.height!) / r.source.width! / 2) * 2);
    expect(r.source.fps).toBeGreaterThan(20);
    expect(r.fps).toBe(5);
    // Not a black frame: the clip's first frame has content.
    const mean = r.image.data.reduce((a, v) => a + v, 0) / r.image.data.length;
    expect(mean).toBeGreaterThan(10);
  });

  it('a missing file is one sentence', async () => {
    const r = await testSource({ camera: { name: 't', url: '/nonexistent/clip.mp4' }, defaultFps: 5, defaultWidth: 640 });
    expect(r).toEqual({ ok: false, error: 'No such file or device.' });
  });

  it('a source that answers nothing is given up after the timeout, with no password in the sentence', async () => {
    const r = await testSource({
      camera: { name: 't', url: `rtsp://viewer:hunter22@127.0.0.1:${silentPort}/stream` },
      defaultFps: 5,
      defaultWidth: 640,
      timeoutMs: 1500,
    });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^No frame came within 2 s/);
    expect(JSON.stringify(r)).not.toContain('hunter22');
  });

  it('a missing ffmpeg binary says where it looked', async () => {
    const r = await testSource({ camera: { name: 't', url: clip }, defaultFps: 5, defaultWidth: 640, ffmpegPath: '/nowhere/ffmpeg' });
    expect(r).toEqual({ ok: false, error: 'ffmpeg was not found at /nowhere/ffmpeg; check ffmpeg.path in the config.' });
  });
});
