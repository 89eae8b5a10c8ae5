/** Picks the detector family named in the config. */
import type { EngineConfig } from '../config/schema.js';
import type { SessionOptions } from '../runtime/session.js';
import { FacegateError } from '../util/errors.js';
import type { Detector } from './detector.js';
import { createSingleStageDetector } from './single-stage.js';
import { createMtcnnDetector } from './mtcnn.js';

export async function createDetector(
  cfg: EngineConfig['detector'],
  modelPath: string | undefined,
  enginesDir: string,
  opts: SessionOptions & { maxBatch: number },
): Promise<Detector> {
  if (cfg.kind === 'mtcnn') return createMtcnnDetector(enginesDir, cfg, opts);
  if (!modelPath) throw new FacegateError('config', `engine.detector.model is required for detector kind "${cfg.kind}"`);
  return createSingleStageDetector(cfg.kind, modelPath, { inputSize: cfg.inputSize, scoreThreshold: cfg.scoreThreshold, nmsIou: cfg.nmsIou, maxBatch: opts.maxBatch }, opts);
}
