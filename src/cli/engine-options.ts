/** The model options of the one-shot CLI commands (detect, embed, compare, eval, enrol, scan): flags, usage text, parsing. */
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import {
  BRING_YOUR_OWN_DETECTORS,
  BRING_YOUR_OWN_EMBEDDERS,
  DETECTOR_KINDS,
  EMBEDDER_KINDS,
  detectorSchema,
  embedderSchema,
  type Config,
} from '../config/schema.js';
import { installRoot } from '../engine/setup.js';
import { FacegateError } from '../util/errors.js';

/** Options the detect/embed/compare/eval commands accept for picking models. */
export const engineOptions = {
  detector: { type: 'string' },
  'detector-model': { type: 'string' },
  embedder: { type: 'string' },
  'embedder-model': { type: 'string' },
  flip: { type: 'boolean' },
} as const;

const detectorFlag = `--detector ${DETECTOR_KINDS.join('|')}`;
const embedderFlag = `--embedder ${EMBEDDER_KINDS.join('|')}`;
const column = Math.max(detectorFlag.length, embedderFlag.length, '--flip'.length) + 3;

export const engineOptionsUsage = `Model options (override the config file's engine section):
  ${detectorFlag.padEnd(column)}--detector-model <file.onnx>
  ${embedderFlag.padEnd(column)}--embedder-model <file.onnx>
  ${'--flip'.padEnd(column)}flip test-time augmentation`;

export function configFromArgs(values: Record<string, unknown>): Config {
  const config = loadConfig(values.config as string | undefined);
  const e = config.engine;
  const det = values.detector as string | undefined;
  if (det !== undefined) {
    const r = detectorSchema.shape.kind.safeParse(det);
    if (!r.success) throw new FacegateError('usage', `--detector must be one of ${DETECTOR_KINDS.join(', ')} (got "${det}")`);
    e.detector.kind = r.data;
  }
  if (values['detector-model'] !== undefined) e.detector.model = path.resolve(values['detector-model'] as string);
  const emb = values.embedder as string | undefined;
  if (emb !== undefined) {
    const r = embedderSchema.shape.kind.safeParse(emb);
    if (!r.success) throw new FacegateError('usage', `--embedder must be one of ${EMBEDDER_KINDS.join(', ')} (got "${emb}")`);
    e.embedder.kind = r.data;
  }
  if (values['embedder-model'] !== undefined) e.embedder.model = path.resolve(values['embedder-model'] as string);
  if (values.flip) e.embedder.flip = true;
  if (BRING_YOUR_OWN_DETECTORS.includes(e.detector.kind) && !e.detector.model)
    throw new FacegateError('usage', `detector "${e.detector.kind}" needs --detector-model <file.onnx>`);
  if (BRING_YOUR_OWN_EMBEDDERS.includes(e.embedder.kind) && !e.embedder.model)
    throw new FacegateError('usage', `embedder "${e.embedder.kind}" needs --embedder-model <file.onnx>`);
  if (!path.isAbsolute(e.enginesDir)) e.enginesDir = path.resolve(installRoot, e.enginesDir);
  return config;
}
