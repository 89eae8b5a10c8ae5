/** One model's file and tensors from engines/manifest.json, read by the one validating reader (models/manifest.ts). */
import path from 'node:path';
import { readManifest, type Manifest, type ManifestModel } from '../models/manifest.js';
import { FacegateError } from '../util/errors.js';
import type { ManifestEntry } from './session.js';

/** Absolute path and entry of one model; FacegateError when it is not in the manifest. */
export function manifestModel(enginesDir: string, id: string, manifest: Manifest = readManifest(enginesDir)): { file: string; entry: ManifestEntry } {
  const models: Readonly<Record<string, ManifestModel | undefined>> = manifest.models;
  const entry = models[id];
  if (!entry) throw new FacegateError('engines_missing', `model "${id}" is not in ${path.join(enginesDir, 'manifest.json')}: run \`facegate models\``);
  return { file: path.resolve(enginesDir, entry.file), entry };
}
