/** Config for commands that touch the data directory: --config, then --data-dir over FACEGATE_DATA_DIR over dataDir. */
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { configFromArgs } from './engine-options.js';
import { Facebank } from '../store/facebank.js';

export function configWithDataDir(values: Record<string, unknown>): Config {
  const config = configFromArgs(values);
  if (typeof values['data-dir'] === 'string') config.dataDir = path.resolve(values['data-dir']);
  return config;
}

/**
 * Opens the facebank read-only (no lock: the appliance may be writing it), runs `fn`, and always closes it.
 * Commands that change it go through local/session.ts instead.
 */
export async function withFacebankReadOnly<T>(config: Config, fn: (fb: Facebank) => Promise<T>): Promise<T> {
  const fb = new Facebank(config.dataDir, { readOnly: true });
  await fb.open();
  try {
    return await fn(fb);
  } finally {
    await fb.close();
  }
}
