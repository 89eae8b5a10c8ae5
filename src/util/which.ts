/** Finds an executable on a PATH the way a shell does (first match wins); an unset or empty PATH means the system default. */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** What execvp(3) searches when PATH is unset. */
export const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

/** Absolute path of the first executable `name` in `pathVar`'s folders (then `extra`), or null. */
export function which(name: string, pathVar: string | undefined, extra: readonly string[] = []): string | null {
  const dirs = [...(pathVar || DEFAULT_PATH).split(path.delimiter).filter(Boolean), ...extra];
  for (const dir of dirs) {
    const file = path.resolve(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here: try the next folder
    }
  }
  return null;
}
