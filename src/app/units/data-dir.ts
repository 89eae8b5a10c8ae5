/** The data directory: created if missing and checked writable before anything opens a file in it. */
import { access, constants, mkdir } from 'node:fs/promises';
import type { StorageHealth } from '../../store/storage-health.js';
import { FacegateError } from '../../util/errors.js';
import type { Unit } from '../unit.js';

/** `storage`: the storage state of the files in it; its probe (running while a write fails) ends with this unit. */
export function dataDirUnit(dataDir: string, storage?: StorageHealth): Unit {
  return {
    name: 'data dir',
    required: true,
    async start() {
      try {
        await mkdir(dataDir, { recursive: true });
        await access(dataDir, constants.W_OK);
      } catch (e) {
        throw new FacegateError(
          'data_dir',
          `The data directory ${dataDir} cannot be created or written (${(e as NodeJS.ErrnoException).code ?? String(e)}). Set dataDir, --data-dir or FACEGATE_DATA_DIR.`,
          { cause: e },
        );
      }
    },
    stop() {
      storage?.stop();
    },
  };
}
