/**
 * A small real file system that fills up: a tmpfs mounted for one test file (root only). `fill()` writes a filler
 * file until the kernel says ENOSPC; `free()` removes it. Unmount in afterAll.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isStrict } from './prereqs.mjs';

export interface SmallDisk {
  dir: string;
  /** Fills the disk to the last byte (ENOSPC for any further write). */
  fill(): Promise<void>;
  /** Removes what fill() wrote. */
  free(): Promise<void>;
  unmount(): void;
}

/** Mounts a tmpfs of `mb` MiB, or returns null (with a message; strict mode throws) when this process may not mount. */
export function mountSmallDisk(mb: number, suite: string): SmallDisk | null {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fg-small-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${mb}m`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    const why = `mounting a ${mb} MiB tmpfs needs root (${String((e as Error).message).split('\n')[0]})`;
    if (isStrict()) throw new Error(`[facegate tests] ${suite} cannot run: ${why}.`);
    console.warn(`[facegate tests] SKIPPED ${suite}: ${why}.`);
    return null;
  }
  const filler = path.join(dir, 'filler');
  return {
    dir,
    async fill() {
      const h = await open(filler, 'a');
      const chunk = Buffer.alloc(64 * 1024, 1);
      try {
        for (let size = chunk.length; size >= 1; size = Math.floor(size / 2)) {
          for (;;) {
            try {
              await h.write(chunk, 0, size);
            } catch (e) {
              if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
              break;
            }
          }
        }
      } finally {
        await h.close();
      }
    },
    free: () => rm(filler, { force: true }),
    unmount() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
