/** Crash-safe file writes: temp file in the same folder, fsync, rename, fsync the folder. */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { FacegateError } from '../util/errors.js';
import path from 'node:path';

/** Temp files left by a crash match this; owners delete them when they open their folder. */
export const TEMP_FILE = /^\..+\.[0-9a-f]{12}\.tmp$/;

/** A fresh temp file name beside `file`, of the TEMP_FILE form. */
export const tempBeside = (file: string): string => path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);

/** Makes a rename or a new file in `dir` survive a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** After this resolves the file holds `data` even across a power cut; a crash before leaves the old content. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const tmp = tempBeside(file);
  const h = await open(tmp, 'w', 0o600);
  try {
    await h.writeFile(data);
    await h.sync();
  } catch (e) {
    await h.close().catch(() => {});
    await rm(tmp, { force: true });
    throw e;
  }
  await h.close();
  try {
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dir);
}

/** lowdb adapter with the atomic write above (steno renames but never fsyncs). */
export class AtomicJsonFile<T> {
  constructor(readonly file: string) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    return JSON.parse(text) as T;
  }

  write(data: T): Promise<void> {
    return writeFileAtomic(this.file, JSON.stringify(data));
  }
}

/** Write JSON to `file` atomically (temp file + fsync + rename, mode 0600). */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, JSON.stringify(value));
}

/** A JSON file's content, or null when there is no such file; FacegateError when it cannot be read or parsed. */
export async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new FacegateError('store_corrupt', `${file} could not be read: ${(e as Error).message}`, { cause: e });
  }
}
