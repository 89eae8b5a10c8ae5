/**
 * Still images (uploads, CLI arguments, evaluation sets) → RgbImage via sharp. The type is detected from
 * the content, EXIF orientation applied, alpha flattened on white, 16-bit and grey converted to 8-bit sRGB.
 */
import { readFile, stat } from 'node:fs/promises';
import sharp, { type Metadata, type Sharp } from 'sharp';
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
  const msg = ((e as Error)?.message ?? String(e)).split('\n')[0]!;
  if (/pixel limit/i.test(msg)) return new FacegateError('too_many_pixels', `${what} has more than ${maxPixels} pixels`);
  if (/unsupported image format|bad seek|not a known file format|missing/i.test(msg) && !/premature|truncat/i.test(msg))
    return new FacegateError('not_image', `${what} is not a supported image (JPEG, PNG, WebP, GIF, TIFF, AVIF)`);
  if (/premature|truncat|end of (file|stream)|unexpected end|short read|incomplete/i.test(msg))
    return new FacegateError('truncated', `${what} is truncated: ${msg}`);
  if (/width|height|dimension|zero/i.test(msg) && /invalid|zero|0/i.test(msg)) return new FacegateError('empty', `${what} has no pixels (${msg})`);
  return new FacegateError('corrupt_image', `${what} cannot be decoded: ${msg}`);
}

/** PNG and GIF state their size in a fixed header: a 0-wide or 0-high image is "empty", not "corrupt". */
function headerSaysEmpty(b: Buffer): boolean {
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47 && b.toString('latin1', 12, 16) === 'IHDR')
    return b.readUInt32BE(16) === 0 || b.readUInt32BE(20) === 0;
  if (b.length >= 10 && b.toString('latin1', 0, 3) === 'GIF') return b.readUInt16LE(6) === 0 || b.readUInt16LE(8) === 0;
  return false;
}

/** Reads and checks the encoded bytes and header: size limits, type, dimensions (before any decoding). */
async function readChecked(
  input: Buffer | Uint8Array | string,
  limits: DecodeLimits,
): Promise<{ buf: Buffer; meta: Metadata; what: string; maxPixels: number }> {
  const maxBytes = limits.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  const maxPixels = limits.maxPixels ?? DEFAULT_LIMITS.maxPixels;
  const what = typeof input === 'string' ? input : 'the image';
  let buf: Buffer;
  if (typeof input === 'string') {
    let size: number;
    try {
      const st = await stat(input);
      if (!st.isFile()) throw new Error(st.isDirectory() ? 'a directory' : 'not a file');
      size = st.size;
    } catch (e) {
      if ((e as Error).message === 'a directory') throw new FacegateError('is_directory', `${input} is a directory, not an image`);
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
  let meta: Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw classify(e, what, maxPixels);
  }
  if (!meta.format) throw new FacegateError('not_image', `${what} is not a supported image`);
  if (!meta.width || !meta.height) throw new FacegateError('empty', `${what} has no pixels (0x0)`);
  if (meta.width * meta.height > maxPixels) {
    throw new FacegateError(
      'too_many_pixels',
      `${what} is ${meta.width}x${meta.height} (${((meta.width * meta.height) / 1e6).toFixed(1)} megapixels), more than the limit of ${maxPixels} pixels`,
    );
  }
  return { buf, meta, what, maxPixels };
}

/** Upright 8-bit sRGB raw pixels from a sharp pipeline (after `shape` has cropped or resized it). */
async function toRgb(buf: Buffer, what: string, maxPixels: number, shape: (s: Sharp) => Sharp = (s) => s): Promise<RgbImage> {
  try {
    const { data, info } = await shape(sharp(buf, { limitInputPixels: maxPixels, failOn: 'error' }).rotate())
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

/** Decode a still image from a buffer or a file path. Throws FacegateError with a code a caller can act on. */
export async function decodeImage(input: Buffer | Uint8Array | string, limits: DecodeLimits = {}): Promise<RgbImage> {
  const { buf, what, maxPixels } = await readChecked(input, limits);
  return toRgb(buf, what, maxPixels);
}

/**
 * A photo decoded small for detection, with its encoded bytes kept for full-quality crops: a 38-megapixel
 * JPEG never exists as full-size pixels (sharp shrinks a JPEG while decoding it).
 */
export interface Photo {
  /** The upright photo shrunk so its longest side is at most maxSide (never enlarged). */
  image: RgbImage;
  /** The upright photo's own size. */
  width: number;
  height: number;
  /** image pixels per photo pixel (1 when not shrunk). */
  scale: number;
  source: Buffer;
  what: string;
  maxPixels: number;
}

export async function decodePhoto(input: Buffer | Uint8Array | string, limits: DecodeLimits & { maxSide: number }): Promise<Photo> {
  const { buf, meta, what, maxPixels } = await readChecked(input, limits);
  const swap = (meta.orientation ?? 1) >= 5;
  const width = swap ? meta.height! : meta.width!;
  const height = swap ? meta.width! : meta.height!;
  const m = limits.maxSide;
  const image = await toRgb(buf, what, maxPixels, (s) => (Math.max(width, height) > m ? s.resize({ width: m, height: m, fit: 'inside' }) : s));
  return { image, width, height, scale: image.width / width, source: buf, what, maxPixels };
}

/** An already decoded image as a Photo (nothing shrunk; no full-quality source beyond the image itself). */
export function photoOf(image: RgbImage, what = 'the image'): Photo {
  return { image, width: image.width, height: image.height, scale: 1, source: Buffer.alloc(0), what, maxPixels: image.width * image.height };
}

/** The photo region `rect` (photo pixels, inside the photo) at full quality, resampled to `outW` x `outH`. */
export async function decodePhotoRegion(photo: Photo, rect: { x: number; y: number; w: number; h: number }, outW: number, outH: number): Promise<RgbImage> {
  const left = Math.max(0, Math.floor(rect.x));
  const top = Math.max(0, Math.floor(rect.y));
  const width = Math.min(photo.width - left, Math.ceil(rect.x + rect.w) - left);
  const height = Math.min(photo.height - top, Math.ceil(rect.y + rect.h) - top);
  if (!(width > 0 && height > 0)) throw new FacegateError('bad_region', `the region ${JSON.stringify(rect)} lies outside ${photo.what}`);
  return toRgb(photo.source, photo.what, photo.maxPixels, (s) => {
    const cut = s.extract({ left, top, width, height });
    return width === outW && height === outH ? cut : cut.resize(outW, outH, { fit: 'fill' });
  });
}

/** Encode an RgbImage as JPEG. */
export async function encodeJpeg(img: RgbImage, quality = 90): Promise<Buffer> {
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}
