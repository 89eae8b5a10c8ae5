/** Image helpers for the web API (sharp): type sniffing, decoding uploads, crops, annotated frames. */
import sharp from 'sharp';
import { decodeImage as decodeStill, decodePhoto as decodeStillPhoto, encodeJpeg as encodeStillJpeg, type Photo } from '../ingest/still.js';
import { isFacegateError } from '../util/errors.js';
import type { Box, RgbImage } from '../vision/types.js';
import type { AnnotatedFace } from './ports.js';

export type ImageType = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'heif' | 'tiff';

/** The image type from the first bytes (magic numbers), never from the file name. */
export function sniffImageType(b: Uint8Array): ImageType | null {
  const ascii = (from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
  if (b.length < 12) return null;
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b[0] === 0x89 && ascii(1, 4) === 'PNG' && b[4] === 0x0d && b[5] === 0x0a) return 'png';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'gif';
  if ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a)) return 'tiff';
  if (ascii(4, 8) === 'ftyp') {
    const brand = ascii(8, 12);
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (/^(heic|heix|hevc|mif1|msf1)$/.test(brand)) return 'heif';
  }
  return null;
}

export class ImageReject extends Error {
  constructor(
    readonly reason: 'not_image' | 'too_many_pixels',
    message: string,
  ) {
    super(message);
  }
}

/** Decodes an upload to RGB, upright per its EXIF orientation. */
export async function decodeImage(buf: Uint8Array, maxPixels: number): Promise<RgbImage> {
  const type = sniffImageType(buf);
  if (!type) throw new ImageReject('not_image', 'This file is not a photo (JPEG, PNG, WebP, GIF, AVIF, HEIF or TIFF).');
  try {
    return await decodeStill(buf, { maxBytes: Number.MAX_SAFE_INTEGER, maxPixels });
  } catch (e) {
    if (isFacegateError(e) && e.code === 'too_many_pixels') throw new ImageReject('too_many_pixels', `The photo has more than ${maxPixels} pixels.`);
    if (isFacegateError(e)) throw new ImageReject('not_image', `This ${type.toUpperCase()} file could not be decoded; it may be damaged.`);
    throw e;
  }
}

/** Decodes an upload small for detection, keeping its bytes for full-quality face crops (see engine/photo.ts). */
export async function decodePhotoUpload(buf: Uint8Array, maxPixels: number, maxSide: number): Promise<Photo> {
  const type = sniffImageType(buf);
  if (!type) throw new ImageReject('not_image', 'This file is not a photo (JPEG, PNG, WebP, GIF, AVIF, HEIF or TIFF).');
  try {
    return await decodeStillPhoto(buf, { maxBytes: Number.MAX_SAFE_INTEGER, maxPixels, maxSide });
  } catch (e) {
    if (isFacegateError(e) && e.code === 'too_many_pixels') throw new ImageReject('too_many_pixels', `The photo has more than ${maxPixels} pixels.`);
    if (isFacegateError(e)) throw new ImageReject('not_image', `This ${type.toUpperCase()} file could not be decoded; it may be damaged.`);
    throw e;
  }
}

export async function decodeFile(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

const raw = (img: RgbImage) => sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });

export const encodeJpeg = (img: RgbImage, quality = 85) => encodeStillJpeg(img, quality);

/** A square crop around `box` with a margin, as RGB (for samples) . */
export async function cropFace(img: RgbImage, box: Box, size = 112, margin = 0.25): Promise<RgbImage> {
  const [x1, y1, x2, y2] = box;
  const side = Math.max(x2 - x1, y2 - y1) * (1 + 2 * margin);
  const cx = (x1 + x2) / 2;
  const cy = (y1 + y2) / 2;
  const left = Math.max(0, Math.round(cx - side / 2));
  const top = Math.max(0, Math.round(cy - side / 2));
  const width = Math.max(1, Math.min(img.width - left, Math.round(side)));
  const height = Math.max(1, Math.min(img.height - top, Math.round(side)));
  const { data, info } = await raw(img)
    .extract({ left, top, width, height })
    .resize(size, size, { fit: 'contain', background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** The crop as a data: URL JPEG, for faces that have no stored id yet. */
export async function thumbDataUrl(img: RgbImage, box: Box, size = 96): Promise<string> {
  const crop = await cropFace(img, box, size);
  return `data:image/jpeg;base64,${(await encodeJpeg(crop, 80)).toString('base64')}`;
}

const xml = (s: string) => s.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** Draws each face's box (into the pixels) and its name (an SVG overlay) and encodes JPEG. */
export async function annotatedJpeg(img: RgbImage, faces: AnnotatedFace[]): Promise<Buffer> {
  const data = new Uint8Array(img.data);
  const { width: W, height: H } = img;
  const t = Math.max(2, Math.round(Math.min(W, H) / 200));
  const put = (x: number, y: number, c: [number, number, number]) => {
    if (x < 0 || y < 0 || x >= W || y >= H) return;
    const o = (y * W + x) * 3;
    data[o] = c[0];
    data[o + 1] = c[1];
    data[o + 2] = c[2];
  };
  const labels: string[] = [];
  const fontSize = Math.max(12, Math.round(Math.min(W, H) / 24));
  for (const f of faces) {
    const colour: [number, number, number] = f.label ? [40, 200, 90] : [240, 170, 30];
    const [x1, y1, x2, y2] = f.box.map(Math.round) as [number, number, number, number];
    for (let k = 0; k < t; k++) {
      for (let x = x1; x! <= x2; x!++) {
        put(x!, y1 + k, colour);
        put(x!, y2 - k, colour);
      }
      for (let y = y1; y! <= y2; y!++) {
        put(x1 + k, y!, colour);
        put(x2 - k, y!, colour);
      }
    }
    const text = f.label ? `${f.label}${f.similarity != null ? ` ${f.similarity.toFixed(2)}` : ''}` : 'unknown';
    const ty = y1 - t - 4 > fontSize ? y1 - t - 4 : Math.min(H - 4, y2 + fontSize + t);
    labels.push(
      `<text x="${Math.max(2, x1)}" y="${ty}" font-family="sans-serif" font-size="${fontSize}" fill="rgb(${colour.join(',')})" stroke="black" stroke-width="${Math.max(1, fontSize / 8)}" paint-order="stroke">${xml(text)}</text>`,
    );
  }
  let s = sharp(data, { raw: { width: W, height: H, channels: 3 } });
  if (labels.length) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${labels.join('')}</svg>`;
    s = s.composite([{ input: Buffer.from(svg), top: 0, left: 0 }]);
  }
  return s.jpeg({ quality: 80 }).toBuffer();
}
