/**
 * Camera credentials (URL user info) by camera name, in `<dataDir>/camera-secrets.json`, mode 0600, written
 * atomically. The config file refers to them with a placeholder (src/config/secrets.ts).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FacegateError } from '../util/errors.js';
import { writeFileAtomic } from './atomic.js';

export const SECRETS_FILE = 'camera-secrets.json';

export class CameraSecrets {
  private values: Record<string, string> = {};
  readonly file: string;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, SECRETS_FILE);
  }

  /** Reads the file; a missing file holds no secrets. */
  async open(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new FacegateError('store_corrupt', `${this.file} cannot be read (${(e as NodeJS.ErrnoException).code}); fix its permissions.`, { cause: e });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new FacegateError('store_corrupt', `${this.file} is not valid JSON; remove it and enter the camera passwords again.`);
    }
    const ok = parsed && typeof parsed === 'object' && !Array.isArray(parsed) && Object.values(parsed).every((v) => typeof v === 'string');
    if (!ok)
      throw new FacegateError('store_corrupt', `${this.file} is not a map of camera names to credentials; remove it and enter the camera passwords again.`);
    this.values = parsed as Record<string, string>;
  }

  /** Every stored credential by camera name. */
  all(): Readonly<Record<string, string>> {
    return this.values;
  }

  get(name: string): string | null {
    return Object.hasOwn(this.values, name) ? this.values[name]! : null;
  }

  /** Stores (or with null, forgets) one camera's credential, and writes the file. */
  async set(name: string, userinfo: string | null): Promise<void> {
    const next = { ...this.values };
    if (userinfo === null) delete next[name];
    else next[name] = userinfo;
    if (JSON.stringify(next) === JSON.stringify(this.values)) return;
    await writeFileAtomic(this.file, JSON.stringify(next, null, 2) + '\n');
    this.values = next;
  }
}
