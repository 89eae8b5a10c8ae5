/**
 * Best-face crops of tracks as <dataDir>/snapshots/<id>.jpg; ids are [a-zA-Z0-9-] only. A crop the disk cannot
 * take (full, failing) is reported to the storage state and not kept: the event goes on without a snapshot.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { FacegateError, isFacegateError } from '../util/errors.js';
import type { RgbImage } from '../vision/types.js';
import { TEMP_FILE, writeFileAtomic } from './atomic.js';
import type { StorageReporter } from './storage-health.js';

const ID = /^[a-zA-Z0-9-]{1,100}$/;

export const isSnapshotId = (id: unknown): id is string => typeof id === 'string' && ID.test(id);

export class Snapshots {
  readonly dir: string;
  private ready: Promise<unknown> | null = null;

  constructor(
    dataDir: string,
    private readonly storage?: StorageReporter,
  ) {
    this.dir = path.join(dataDir, 'snapshots');
  }

  private ensureDir() {
    this.ready ??= mkdir(this.dir, { recursive: true });
    return this.ready;
  }

  /** Encode the crop as JPEG and return its new id. */
  async save(image: RgbImage): Promise<string> {
    if (!image || image.data?.length !== image.width * image.height * 3 || image.width <= 0 || image.height <= 0) {
      throw new FacegateError('invalid', 'A snapshot must be an RGB image whose data length is width × height × 3.');
    }
    const id = randomUUID();
    const jpeg = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
      .jpeg({ quality: 90 })
      .toBuffer();
    try {
      await this.ensureDir();
      await writeFileAtomic(this.pathOf(id), jpeg);
    } catch (e) {
      this.ready = null;
      throw e;
    }
    return id;
  }

  /** save(), but a crop the disk does not take is reported to the storage state and gives null (the live path). */
  async keep(image: RgbImage): Promise<string | null> {
    let id: string;
    try {
      id = await this.save(image);
    } catch (e) {
      if (!this.storage || (e as NodeJS.ErrnoException).code === undefined || isFacegateError(e)) throw e;
      this.storage.reportWriteFailure(this.dir, e);
      return null;
    }
    this.storage?.reportWriteOk(this.dir);
    return id;
  }

  /** Resolve an id to its file; throws 'invalid' for anything but [a-zA-Z0-9-]. The file may not exist. */
  pathOf(id: string): string {
    if (!isSnapshotId(id)) throw new FacegateError('invalid', 'A snapshot id is letters, digits and "-" only.');
    return path.join(this.dir, `${id}.jpg`);
  }

  /** The file of snapshot `id`, or null when the id is malformed or there is no such snapshot. */
  async path(id: string): Promise<string | null> {
    if (!isSnapshotId(id)) return null;
    const file = this.pathOf(id);
    try {
      return (await stat(file)).isFile() ? file : null;
    } catch {
      return null;
    }
  }

  /** Delete snapshots older than maxAgeMs, then the oldest beyond maxCount; returns how many were removed. */
  async prune(opts: { maxAgeMs?: number; maxCount?: number; now?: number }): Promise<number> {
    await this.ensureDir();
    const now = opts.now ?? Date.now();
    const files: { name: string; mtime: number }[] = [];
    for (const name of await readdir(this.dir)) {
      if (TEMP_FILE.test(name)) {
        await rm(path.join(this.dir, name), { force: true });
        continue;
      }
      if (!name.endsWith('.jpg')) continue;
      try {
        files.push({ name, mtime: (await stat(path.join(this.dir, name))).mtimeMs });
      } catch {
        // removed meanwhile
      }
    }
    files.sort((a, b) => b.mtime - a.mtime);
    const doomed = files.filter(
      (f, i) => (opts.maxAgeMs !== undefined && now - f.mtime > opts.maxAgeMs) || (opts.maxCount !== undefined && i >= opts.maxCount),
    );
    await Promise.all(doomed.map((f) => rm(path.join(this.dir, f.name), { force: true })));
    return doomed.length;
  }
}
