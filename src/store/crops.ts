/** Face crops as stored beside their samples: RGB checked, kept as high-quality JPEG (4:4:4), read back as RGB. */
import sharp from 'sharp';
import { FacegateError } from '../util/errors.js';
import type { RgbImage } from '../vision/types.js';

export function checkCrop(img: RgbImage): void {
  const ok =
    img && Number.isInteger(img.width) && Number.isInteger(img.height) && img.width > 0 && img.height > 0 && img.data?.length === img.width * img.height * 3;
  if (!ok) throw new FacegateError('invalid', 'The crop must be an RGB image whose data length is width × height × 3.');
}

export function encodeCrop(img: RgbImage): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({ quality: 95, chromaSubsampling: '4:4:4' })
    .toBuffer();
}

export async function decodeCrop(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
