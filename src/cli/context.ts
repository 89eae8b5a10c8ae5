/** Config for commands that touch the data directory: --config, then --data-dir over FACEGATE_DATA_DIR over dataDir. */
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { configFromArgs } from '../engine/setup.js';
import { Facebank } from '../store/facebank.js';

export function configWithDataDir(values: Record<string, unknown>): Config {
  const config = configFromArgs(values);
  if (typeof values['data-dir'] === 'string') config.dataDir = path.resolve(values['data-dir']);
  return config;
}

/** Opens the facebank, runs `fn`, and always closes it. */
export async function withFacebank<T>(config: Config, fn: (fb: Facebank) => Promise<T>): Promise<T> {
  const fb = new Facebank(config.dataDir);
  await fb.open();
  try {
    return await fn(fb);
  } finally {
    await fb.close();
  }
}
