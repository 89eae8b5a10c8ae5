/** `facegate backup <file>` and `facegate restore <file>`: the facebank (people, samples, crops) and auth.json. */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from './command.js';
import { FacegateError } from '../util/errors.js';
import { loadConfig } from '../config/load.js';
import { createBackup, restoreBackup } from '../store/backup.js';
import { DataDirLock, LockedError } from '../store/lock.js';
import { LOCK_WAIT_MS } from '../local/session.js';
import { humanBytes } from '../util/bytes.js';

/** --data-dir, else the config's dataDir (which FACEGATE_DATA_DIR overrides). */
function dataDirOf(values: Record<string, unknown>): string {
  const dir = values['data-dir'] as string | undefined;
  return dir ? path.resolve(dir) : loadConfig(values.config as string | undefined).dataDir;
}

function oneFile(positionals: string[], usage: string): string {
  if (positionals.length !== 1) throw new FacegateError('usage', `expected exactly one file\n\n${usage}`);
  return positionals[0]!;
}

const backupUsage = `Usage: facegate backup <file> [--config <file>] [--data-dir <dir>] [--json]

Writes one archive (gzip, streamed file by file, a sha256 per file) of the data directory's facebank
(facebank.journal), the crop of every sample (samples/<id>.jpg) and auth.json when present. Events and unknown
faces are not included. The archive appears under <file> only once it is complete.`;

export const backupCommand: Command = {
  name: 'backup',
  summary: 'Save the facebank, its face crops and auth.json to one file',
  usage: backupUsage,
  options: {},
  allowPositionals: true,
  async run({ values, positionals }, io) {
    const file = oneFile(positionals, backupUsage);
    const dataDir = dataDirOf(values);
    const s = await createBackup(dataDir, file);
    if (values.json) io.stdout(JSON.stringify({ ok: true, dataDir, ...s }));
    else io.stdout(`Backed up ${s.people} people and ${s.samples} samples (${s.files.length} files, ${humanBytes(s.bytes)}) from ${dataDir} to ${file}`);
    return 0;
  },
};

const restoreUsage = `Usage: facegate restore <file> [--config <file>] [--data-dir <dir>] [--json]

Replaces the facebank (and auth.json, when the backup has one) with the backup's. The whole backup is
checked first (checksums, facebank schema, every crop present); a damaged or truncated backup is refused and
nothing changes. Older (version 1 and 2) backups restore too. Refused while \`facegate run\` uses the data directory: stop the service first (systemctl stop facegate).`;

export const restoreCommand: Command = {
  name: 'restore',
  summary: 'Replace the facebank with a backup (checked completely first)',
  usage: restoreUsage,
  options: {},
  allowPositionals: true,
  async run({ values, positionals }, io) {
    const file = oneFile(positionals, restoreUsage);
    const dataDir = dataDirOf(values);
    await mkdir(dataDir, { recursive: true });
    const lock = await DataDirLock.acquire(dataDir, { role: 'restore', waitMs: LOCK_WAIT_MS }).catch((e: unknown) => {
      if (e instanceof LockedError && e.holder.role === 'run')
        throw new FacegateError('locked', `${e.message} Stop it first (systemctl stop facegate), then restore.`);
      throw e;
    });
    let s;
    try {
      s = await restoreBackup(dataDir, file);
    } finally {
      await lock.release();
    }
    if (values.json) io.stdout(JSON.stringify({ ok: true, dataDir, ...s }));
    else io.stdout(`Restored ${s.people} people and ${s.samples} samples (backup of ${s.created}) into ${dataDir}`);
    return 0;
  },
};
