/** The npm TFLite models the converter builds from, as the tests read them. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ASSET_DIR, MODEL_SPECS, SOURCE_PACKAGE, type ModelId } from '../../src/models/specs.js';
import { repoRoot } from './data.js';

export const TFLITE_ASSETS = path.join(repoRoot, 'node_modules', SOURCE_PACKAGE, ASSET_DIR);
export const modelSpec = (id: ModelId) => MODEL_SPECS.find((s) => s.id === id)!;
export const tfliteBytes = (id: ModelId) => readFileSync(path.join(TFLITE_ASSETS, modelSpec(id).asset));
