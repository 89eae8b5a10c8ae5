/** Builds an engine (one process, or a worker pool) from the config's engine section. */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config, EngineConfig } from '../config/schema.js';
import type { Logger } from '../util/log.js';
import type { FaceEngine } from './types.js';
import { createFaceEngine } from './index.js';
import { autoWorkers, createEnginePool } from './pool.js';

/** The install folder (holds engines/): two levels above this module in both src/ and dist/. */
export const installRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function engineFromConfig(config: Pick<Config, 'engine' | 'pipeline'>, log?: Logger, tweak?: (e: EngineConfig) => void): Promise<FaceEngine> {
  const e = structuredClone(config.engine);
  tweak?.(e);
  const cores = os.availableParallelism();
  const workers = e.workers || autoWorkers(e, cores);
  const opts = { log, quality: config.pipeline.quality };
  return workers > 1 ? createEnginePool(e, workers, cores, opts) : createFaceEngine(e, opts);
}
