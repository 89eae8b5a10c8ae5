/** Serving image files by id: the path must resolve inside the data directory, or nothing is read. */
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { HttpError } from './http.js';

export async function readInside(root: string, file: string | null): Promise<Buffer> {
  const missing = new HttpError(404, 'not_found', 'There is no such picture.');
  if (!file) throw missing;
  let realRoot: string;
  let real: string;
  try {
    realRoot = await realpath(root);
    real = await realpath(path.resolve(root, file));
  } catch {
    throw missing;
  }
  if (!real.startsWith(realRoot + path.sep)) throw missing;
  try {
    return await readFile(real);
  } catch {
    throw missing;
  }
}

export const jpeg = (buf: Buffer, cache = 'private, max-age=3600') =>
  new Response(new Uint8Array(buf), { headers: { 'Content-Type': 'image/jpeg', 'Cache-Control': cache } });
