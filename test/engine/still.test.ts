import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, encodeJpeg } from '../../src/ingest/still.js';
import { FacegateError } from '../../src/util/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'facegate-still-'));
const f = (n: string) => path.join(dir, n);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  writeFileSync(f('text.jpg'), 'this is plain text, not a JPEG');
  const jpg = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#4080c0' } })
    .jpeg()
    .toBuffer();
  writeFileSync(f('ok.jpg'), jpg);
  writeFileSync(f('truncated.jpg'), jpg.subarray(0, jpg.length >> 1));
  await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 0x12, g: 0x34, b: 0x56 } } })
    .toColourspace('rgb16')
    .png()
    .toFile(f('16bit.png'));
  await sharp({ create: { width: 40, height: 30, channels: 4, background: { r: 10, g: 200, b: 30, alpha: 0 } } })
    .png()
    .toFile(f('alpha.png'));
  await sharp({ create: { width: 40, height: 30, channels: 3, background: '#777777' } })
    .greyscale()
    .png()
    .toFile(f('grey.png'));
  // EXIF orientation 6 (rotate 90° clockwise to display): stored 60x20 becomes 20x60.
  await sharp({ create: { width: 60, height: 20, channels: 3, background: '#ff0000' } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toFile(f('rotated.jpg'));
  // 0x0: a PNG whose header states width and height 0.
  const png = Buffer.from(readFileSync(f('grey.png')));
  png.writeUInt32BE(0, 16);
  png.writeUInt32BE(0, 20);
  writeFileSync(f('zero.png'), png);
  // 50 megapixels: a valid PNG header (with its CRC) that states 10000x5000; the limit must trip before decoding.
  const big = Buffer.from(readFileSync(f('grey.png')));
  big.writeUInt32BE(10000, 16);
  big.writeUInt32BE(5000, 20);
  big.writeUInt32BE(crc32(big.subarray(12, 29)), 29);
  writeFileSync(f('50mp.png'), big);
}, 60_000);

async function code(input: string | Buffer, limits = {}): Promise<string> {
  const e = await decodeImage(input, limits).then(
    () => null,
    (x) => x,
  );
  expect(e).toBeInstanceOf(FacegateError);
  return (e as FacegateError).code;
}

describe('decodeImage', { timeout: 60_000 }, () => {
  it('decodes a JPEG from a path and from a buffer', async () => {
    const a = await decodeImage(f('ok.jpg'));
    const b = await decodeImage(readFileSync(f('ok.jpg')));
    expect([a.width, a.height, a.data.length]).toEqual([320, 240, 320 * 240 * 3]);
    expect(b.data).toEqual(a.data);
  });
  it('gives clear codes for bad input', async () => {
    expect(await code(f('text.jpg'))).toBe('not_image');
    expect(await code(f('truncated.jpg'))).toBe('truncated');
    expect(await code(f('zero.png'))).toBe('empty');
    expect(await code(Buffer.alloc(0))).toBe('empty');
    expect(await code(f('missing.png'))).toBe('not_found');
    expect(await code(f('50mp.png'))).toBe('too_many_pixels');
    expect(await code(f('ok.jpg'), { maxBytes: 100 })).toBe('too_large');
    expect(await code(readFileSync(f('ok.jpg')), { maxBytes: 100 })).toBe('too_large');
  });
  it('converts 16-bit, alpha and grey images to 8-bit RGB', async () => {
    const p16 = await decodeImage(f('16bit.png'));
    expect(Array.from(p16.data.subarray(0, 3))).toEqual([0x12, 0x34, 0x56]);
    const alpha = await decodeImage(f('alpha.png'));
    expect(Array.from(alpha.data.subarray(0, 3))).toEqual([255, 255, 255]); // transparent → white
    const grey = await decodeImage(f('grey.png'));
    expect(grey.data.length).toBe(40 * 30 * 3);
    expect(Array.from(grey.data.subarray(0, 3))).toEqual([0x77, 0x77, 0x77]);
  });
  it('applies EXIF orientation', async () => {
    const r = await decodeImage(f('rotated.jpg'));
    expect([r.width, r.height]).toEqual([20, 60]);
  });
  it('encodeJpeg round-trips', async () => {
    const img = await decodeImage(f('ok.jpg'));
    const back = await decodeImage(await encodeJpeg(img, 95));
    expect([back.width, back.height]).toEqual([320, 240]);
    expect(Math.abs(back.data[0]! - img.data[0]!)).toBeLessThan(6);
  });
});
