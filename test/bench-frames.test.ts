import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import { hasTestData, dataPath } from './helpers/data.js';
import { decodeVideo, hamiltonFrames, widerImagePaths, widerImages } from '../src/bench/frames.js';
import { formatRatioTable, mean, percentile, std } from '../src/bench/stats.js';
import { FacegateError } from '../src/util/errors.js';
import type { RgbImage } from '../src/vision/types.js';

describe('bench stats', () => {
  it('percentiles interpolate between ranks', () => {
    const v = [5, 1, 4, 2, 3];
    expect(percentile(v, 0)).toBe(1);
    expect(percentile(v, 50)).toBe(3);
    expect(percentile(v, 100)).toBe(5);
    expect(percentile([1, 2], 50)).toBe(1.5);
    expect(percentile([], 50)).toBeNaN();
  });

  it('mean and sample std', () => {
    expect(mean([2, 4, 4, 4, 5, 5, 7, 9])).toBe(5);
    expect(std([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(std([3])).toBe(0);
  });

  it('ratio table divides by the baseline row', () => {
    const t = formatRatioTable(
      [
        { name: 'human', value: 8 },
        { name: 'facegate', value: 64 },
      ],
      'human',
    );
    expect(t).toMatch(/facegate\s+64\.0\s+8\.00x/);
    expect(t).toMatch(/human\s+8\.0\s+1\.00x/);
  });
});

describe('bench frames: bad input', () => {
  it('a missing video is a FacegateError', async () => {
    await expect(decodeVideo('/nonexistent/clip.mp4')).rejects.toBeInstanceOf(FacegateError);
  });
});

describe.skipIf(!hasTestData)('bench frames: real data', () => {
  const CLIP = dataPath('video', 'hamilton', 'short_hamilton_clip.mp4');
  let nativeFrames: Promise<RgbImage[]> | undefined;
  const allFrames = () => (nativeFrames ??= hamiltonFrames());

  it('decodes the Hamilton clip into exact RGB frames', async () => {
    const frames = await hamiltonFrames({ maxFrames: 12 });
    expect(frames).toHaveLength(12);
    for (const f of frames) {
      expect([f.width, f.height]).toEqual([640, 360]);
      expect(f.data.length).toBe(640 * 360 * 3);
    }
    // Frames differ from each other (the split is not stuck on one buffer) and are not blank.
    expect(Buffer.compare(frames[0]!.data, frames[11]!.data)).not.toBe(0);
    expect(frames[5]!.data.some((v) => v > 0)).toBe(true);
  });

  it('yields exactly the frames ffmpeg decodes, in order (framemd5 reference)', async () => {
    // Reference: ffmpeg's framemd5 muxer (variable rate, so no padded or repeated frames) over RGB24 frames.
    const ref = spawnSync(ffmpegInstaller.path, ['-loglevel', 'error', '-i', CLIP, '-an', '-pix_fmt', 'rgb24', '-f', 'framemd5', '-'], {
      maxBuffer: 1 << 24,
    });
    expect(ref.status).toBe(0);
    const md5s = ref.stdout
      .toString()
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(',').at(-1)!.trim());
    expect(md5s.length).toBeGreaterThan(100);
    const frames = await allFrames();
    expect(frames.map((f) => createHash('md5').update(f.data).digest('hex'))).toEqual(md5s);
  });

  it('scales to a width and resamples with fps', async () => {
    const native = await allFrames();
    const seconds = native.length / 29.97;
    const frames = await hamiltonFrames({ fps: 5, width: 320 });
    expect([frames[0]!.width, frames[0]!.height]).toEqual([320, 180]);
    expect(frames[0]!.data.length).toBe(320 * 180 * 3);
    expect(Math.abs(frames.length - seconds * 5)).toBeLessThanOrEqual(1.5);
  });

  it('reads WIDER images listed in labels.txt as RGB', async () => {
    expect(widerImagePaths()).toHaveLength(200);
    const imgs = await widerImages(3);
    expect(imgs).toHaveLength(3);
    for (const i of imgs) expect(i.data.length).toBe(i.width * i.height * 3);
    expect(imgs[0]!.width).toBe(1024);
    expect(imgs[0]!.height).toBe(688);
  });
});
