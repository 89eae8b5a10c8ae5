/**
 * Still images (uploads, CLI arguments, evaluation sets) → RgbImage via sharp. The type is detected from
 * the content, EXIF orientation applied, alpha flattened on white, 16-bit and grey converted to 8-bit sRGB.
 */
import { readFile, stat } from 'node:fs/promises';
import sharp from 'sharp';
import { FacegateError } from '../util/errors.js';
import type { RgbImage } from '../vision/types.js';

export interface DecodeLimits {
  /** Largest accepted encoded size, bytes. */
  maxBytes?: number;
  /** Largest accepted width x height. */
  maxPixels?: number;
}

export const DEFAULT_LIMITS: Required<DecodeLimits> = { maxBytes: 50 * 1024 * 1024, maxPixels: 40_000_000 };

sharp.cache(false);

function classify(e: unknown, what: string, maxPixels: number): FacegateError {
  const msg = ((e as Error)?.message ?? String(e)).split('\n')[0];
  if (/pixel limit/i.test(msg)) return new FacegateError('too_many_pixels', `${what} has more than ${maxPixels} pixels`);
  if (/unsupported image format|bad seek|not a known file format|missing/i.test(msg) && !/premature|truncat/i.test(msg)) return new FacegateError('not_image', `${what} is not a supported image (JPEG, PNG, WebP, GIF, TIFF, AVIF)`);
  if (/premature|truncat|end of (file|stream)|unexpected end|short read|incomplete/i.test(msg)) return new FacegateError('truncated', `${what} is truncated: ${msg}`);
  if (/width|height|dimension|zero/i.test(msg) && /invalid|zero|0/i.test(msg)) return new FacegateError('empty', `${what} has no pixels (${msg})`);
  return new FacegateError('corrupt_image', `${what} cannot be decoded: ${msg}`);
}

/** PNG and GIF state their size in a fixed header: a 0-wide or 0-high image is "empty", not "corrupt". */
function headerSaysEmpty(b: Buffer): boolean {
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47 && b.toString('latin1', 12, 16) === 'IHDR') return b.readUInt32BE(16) === 0 || b.readUInt32BE(20) === 0;
  if (b.length >= 10 && b.toString('latin1', 0, 3) === 'GIF') return b.readUInt16LE(6) === 0 || b.readUInt16LE(8) === 0;
  return false;
}

/** Decode a still image from a buffer or a file path. Throws FacegateError with a code a caller can act on. */
export async function decodeImage(input: Buffer | Uint8Array | string, limits: DecodeLimits = {}): Promise<RgbImage> {
  const maxBytes = limits.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  const maxPixels = limits.maxPixels ?? DEFAULT_LIMITS.maxPixels;
  const what = typeof input === 'string' ? input : 'the image';
  let buf: Buffer;
  if (typeof input === 'string') {
    let size: number;
    try {
      const st = await stat(input);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      throw new FacegateError('not_found', `${input}: no such file`);
    }
    if (size > maxBytes) throw new FacegateError('too_large', `${what} is ${size} bytes, more than the limit of ${maxBytes}`);
    buf = await readFile(input);
  } else {
    buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    if (buf.length > maxBytes) throw new FacegateError('too_large', `${what} is ${buf.length} bytes, more than the limit of ${maxBytes}`);
  }
  if (buf.length === 0) throw new FacegateError('empty', `${what} is empty (0 bytes)`);

  if (headerSaysEmpty(buf)) throw new FacegateError('empty', `${what} has no pixels (0x0)`);
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw classify(e, what, maxPixels);
  }
  if (!meta.format) throw new FacegateError('not_image', `${what} is not a supported image`);
  if (!meta.width || !meta.height) throw new FacegateError('empty', `${what} has no pixels (0x0)`);
  if (meta.width * meta.height > maxPixels) {
    throw new FacegateError('too_many_pixels', `${what} is ${meta.width}x${meta.height} (${((meta.width * meta.height) / 1e6).toFixed(1)} megapixels), more than the limit of ${maxPixels} pixels`);
  }
  try {
    const { data, info } = await sharp(buf, { limitInputPixels: maxPixels, failOn: 'error' })
      .rotate()
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    if (!info.width || !info.height) throw new FacegateError('empty', `${what} has no pixels (0x0)`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    if (e instanceof FacegateError) throw e;
    throw classify(e, what, maxPixels);
  }
}

/** Encode an RgbImage as JPEG. */
export async function encodeJpeg(img: RgbImage, quality = 90): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}
