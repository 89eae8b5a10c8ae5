/** Builds an engine from a config file plus command-line overrides (shared by the one-shot CLI commands). */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config/load.js';
import { detectorSchema, embedderSchema, type Config, type EngineConfig } from '../config/schema.js';
import { FacegateError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { FaceEngine } from './types.js';
import { createFaceEngine } from './index.js';
import { autoWorkers, createEnginePool } from './pool.js';

/** The install folder (holds engines/): two levels above this module in both src/ and dist/. */
export const installRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Options the detect/embed/compare/eval commands accept for picking models. */
export const engineOptions = {
  detector: { type: 'string' },
  'detector-model': { type: 'string' },
  embedder: { type: 'string' },
  'embedder-model': { type: 'string' },
  flip: { type: 'boolean' },
} as const;

export const engineOptionsUsage = `Model options (override the config file's engine section):
  --detector auto|mtcnn|yunet|scrfd|retinaface   --detector-model <file.onnx>
  --embedder mobilefacenet|arcface          --embedder-model <file.onnx>
  --flip                                    flip test-time augmentation`;

export function configFromArgs(values: Record<string, unknown>): Config {
  const config = loadConfig(values.config as string | undefined);
  const e = config.engine;
  const det = values.detector as string | undefined;
  if (det !== undefined) {
    const r = detectorSchema.shape.kind.safeParse(det);
    if (!r.success) throw new FacegateError('usage', `--detector must be one of auto, mtcnn, yunet, scrfd, retinaface (got "${det}")`);
    e.detector.kind = r.data;
  }
  if (values['detector-model'] !== undefined) e.detector.model = path.resolve(values['detector-model'] as string);
  const emb = values.embedder as string | undefined;
  if (emb !== undefined) {
    const r = embedderSchema.shape.kind.safeParse(emb);
    if (!r.success) throw new FacegateError('usage', `--embedder must be mobilefacenet or arcface (got "${emb}")`);
    e.embedder.kind = r.data;
  }
  if (values['embedder-model'] !== undefined) e.embedder.model = path.resolve(values['embedder-model'] as string);
  if (values.flip) e.embedder.flip = true;
  if ((e.detector.kind === 'scrfd' || e.detector.kind === 'retinaface') && !e.detector.model) throw new FacegateError('usage', `detector "${e.detector.kind}" needs --detector-model <file.onnx>`);
  if (e.embedder.kind === 'arcface' && !e.embedder.model) throw new FacegateError('usage', 'embedder "arcface" needs --embedder-model <file.onnx>');
  if (!path.isAbsolute(e.enginesDir)) e.enginesDir = path.resolve(installRoot, e.enginesDir);
  return config;
}

export async function engineFromConfig(config: Pick<Config, 'engine' | 'pipeline'>, log?: Logger, tweak?: (e: EngineConfig) => void): Promise<FaceEngine> {
  const e = structuredClone(config.engine);
  tweak?.(e);
  const cores = os.availableParallelism();
  const workers = e.workers || autoWorkers(e, cores);
  const opts = { log, quality: config.pipeline.quality };
  return workers > 1 ? createEnginePool(e, workers, cores, opts) : createFaceEngine(e, opts);
}
