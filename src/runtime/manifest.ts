/** engines/manifest.json: which generated models exist and what their inputs and outputs look like. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { FacegateError } from '../util/errors.js';
import type { ManifestEntry } from './session.js';

export interface Manifest {
  version: number;
  models: Record<string, ManifestEntry & { licence?: string; source?: unknown }>;
}

export function loadManifest(enginesDir: string): Manifest {
  const file = path.join(enginesDir, 'manifest.json');
  if (!existsSync(file)) throw new FacegateError('engines_missing', `${file} not found: run \`facegate models\` (or npm run setup) to build the models`);
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  } catch (e) {
    throw new FacegateError('engines_corrupt', `${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (!m || typeof m.models !== 'object') throw new FacegateError('engines_corrupt', `${file} has no "models" object`);
  return m;
}

/** Absolute path and entry of one model; FacegateError when it is not in the manifest. */
export function manifestModel(enginesDir: string, id: string, manifest = loadManifest(enginesDir)): { file: string; entry: ManifestEntry } {
  const entry = manifest.models[id];
  if (!entry) throw new FacegateError('engines_missing', `model "${id}" is not in ${path.join(enginesDir, 'manifest.json')}: run \`facegate models\``);
  return { file: path.resolve(enginesDir, entry.file), entry };
}
