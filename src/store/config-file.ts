/**
 * The appliance's config file as the page changes it: read, then written atomically (temp file, fsync, rename)
 * with the previous copy kept as `<file>.bak`. Where the config came from decides whether it can be changed at all.
 */
import { constants } from 'node:fs';
import { access, chmod, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { FacegateError } from '../util/errors.js';
import { writeFileAtomic } from './atomic.js';

export interface ConfigSource {
  /** The config file, or null when the appliance runs on the built-in defaults. */
  file: string | null;
  /** True when cameras can be saved to it. */
  writable: boolean;
  /** Why not, in one sentence (null when writable). */
  reason: string | null;
}

/** Where the config came from and whether this process may rewrite it (the file and its folder must be writable). */
export async function configSource(file: string | null | undefined): Promise<ConfigSource> {
  if (!file)
    return {
      file: null,
      writable: false,
      reason:
        'The appliance runs on its built-in defaults (no --config file), so cameras cannot be saved; start it with --config <file> to manage cameras here.',
    };
  const abs = path.resolve(file);
  for (const p of [abs, path.dirname(abs)]) {
    try {
      await access(p, constants.W_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      return {
        file: abs,
        writable: false,
        reason: `The config file ${abs} cannot be changed by the appliance (${code} on ${p === abs ? 'the file' : 'its folder'}); make both writable by the service user, or edit the file by hand.`,
      };
    }
  }
  return { file: abs, writable: true, reason: null };
}

/** The config file's text. */
export async function readConfigText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new FacegateError('config', `The config file ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`, { cause: e });
  }
}

/** The copy of the previous config kept beside it. */
export const backupFile = (file: string): string => `${file}.bak`;

/**
 * Replaces the file with `text`: the current content goes to `<file>.bak` first, then the new content is written
 * atomically (a crash leaves the old or the new file, never a torn one); the file keeps its permissions.
 */
export async function writeConfigText(file: string, previous: string, text: string): Promise<void> {
  const mode = (await stat(file)).mode & 0o777;
  await writeFileAtomic(backupFile(file), previous);
  await writeFileAtomic(file, text);
  await chmod(file, mode);
}
