/**
 * Picks the detector family named in the config. `auto` (the default) and `yunet` without a model file use the
 * YuNet-n that `facegate models` put into engines/, when its sha256 is the pinned one; `auto` falls back to MTCNN.
 */
import path from 'node:path';
import type { EngineConfig } from '../config/schema.js';
import type { SessionOptions } from '../runtime/session.js';
import { pinnedPresent } from '../models/fetch.js';
import { YUNET_N } from '../models/pinned.js';
import { FacegateError } from '../util/errors.js';
import type { Detector } from './detector.js';
import { createSingleStageDetector, type SingleStageKind } from './single-stage.js';
import { createMtcnnDetector } from './mtcnn.js';
import { createOnetRefiner, type LandmarkRefiner } from './onet-landmarks.js';

export type DetectorChoice = { kind: 'mtcnn'; why: string } | { kind: SingleStageKind; model: string; modelId: string; why: string };

/** Which detector a config gets, and why (logged at start-up). */
export function chooseDetector(cfg: EngineConfig['detector'], modelPath: string | undefined, enginesDir: string): DetectorChoice {
  if (cfg.kind === 'mtcnn') return { kind: 'mtcnn', why: 'configured' };
  if (modelPath) {
    if (cfg.kind === 'auto')
      return { kind: 'yunet', model: modelPath, modelId: path.basename(modelPath).replace(/\.onnx$/i, ''), why: 'engine.detector.model' };
    return { kind: cfg.kind, model: modelPath, modelId: path.basename(modelPath).replace(/\.onnx$/i, ''), why: 'configured' };
  }
  if (cfg.kind === 'auto' || cfg.kind === 'yunet') {
    if (pinnedPresent(YUNET_N, enginesDir))
      return { kind: 'yunet', model: path.join(enginesDir, YUNET_N.file), modelId: YUNET_N.id, why: `${YUNET_N.file} verified in engines/` };
    if (cfg.kind === 'yunet')
      throw new FacegateError(
        'engines_missing',
        `detector "yunet" needs --detector-model <file.onnx> or ${YUNET_N.file} in ${enginesDir}: run \`facegate models --from <folder>\``,
      );
    return { kind: 'mtcnn', why: `no verified ${YUNET_N.file} in engines/ (run \`facegate models --from <folder>\` to add it)` };
  }
  throw new FacegateError('config', `engine.detector.model is required for detector kind "${cfg.kind}"`);
}

export async function createDetector(
  cfg: EngineConfig['detector'],
  modelPath: string | undefined,
  enginesDir: string,
  opts: SessionOptions & { maxBatch: number },
): Promise<Detector> {
  const choice = chooseDetector(cfg, modelPath, enginesDir);
  opts.log?.info({ configured: cfg.kind, detector: choice.kind === 'mtcnn' ? 'mtcnn' : choice.modelId, why: choice.why }, 'detector chosen');
  if (choice.kind === 'mtcnn') return createMtcnnDetector(enginesDir, cfg, opts);
  const base = await createSingleStageDetector(
    choice.kind,
    choice.model,
    { inputSize: cfg.inputSize, scoreThreshold: cfg.scoreThreshold, nmsIou: cfg.nmsIou, maxBatch: opts.maxBatch, modelId: choice.modelId, tiles: cfg.tiles },
    opts,
  );
  if (cfg.landmarks === 'own') return base;
  let refiner: LandmarkRefiner;
  try {
    refiner = await createOnetRefiner(enginesDir, opts);
  } catch (e) {
    await base.close();
    throw e;
  }
  return {
    id: `${base.id}+onet`,
    modelId: `${base.modelId}+onet`,
    provider: base.provider,
    detect: async (frames) => refiner.refine(frames, await base.detect(frames)),
    close: async () => {
      await Promise.all([base.close(), refiner.close()]);
    },
  };
}
