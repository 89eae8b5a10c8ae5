/**
 * Embeddings of still images through the full pipeline (the face nearest the centre, aligned, embedded; also the
 * mirrored crop), kept on disk per detector + embedder so repeated evaluations do not run the models again.
 * Cache layout: `<dir>/<detector id>__<embedder id>.json` (files, dimension, per-image flags) beside a `.f32` file
 * holding, per image, the plain then the mirrored embedding (little-endian Float32). Ids carry the model file's
 * hash, so a changed model never reads another's embeddings.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FaceEngine } from '../engine/types.js';
import { decodeImage } from '../ingest/still.js';
import { alignFace } from '../vision/align.js';
import { flipHorizontal } from '../vision/image.js';
import { FacegateError } from '../util/errors.js';
import { centredDefault, closestToCentre } from './run.js';

export interface EmbeddedImage {
  plain: Float32Array;
  /** Embedding of the mirrored aligned crop (for flip-augmented enrolment). */
  mirror: Float32Array;
  /** No face was found; the embedding is of a centred default box. */
  noFace: boolean;
  /** Detector score of the face (0 without one). */
  score: number;
}

interface CacheIndex {
  version: 1;
  detectorId: string;
  embedderId: string;
  dim: number;
  files: string[];
  noFace: boolean[];
  score: number[];
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9._+-]/g, '_');

export function cachePaths(dir: string, engine: Pick<FaceEngine, 'detectorId' | 'embedderId'>): { index: string; data: string } {
  const base = path.join(dir, `${slug(engine.detectorId)}__${slug(engine.embedderId)}`);
  return { index: `${base}.json`, data: `${base}.f32` };
}

function load(dir: string, engine: Pick<FaceEngine, 'detectorId' | 'embedderId'>): Map<string, EmbeddedImage> {
  const out = new Map<string, EmbeddedImage>();
  const p = cachePaths(dir, engine);
  if (!existsSync(p.index) || !existsSync(p.data)) return out;
  let idx: CacheIndex;
  try {
    idx = JSON.parse(readFileSync(p.index, 'utf8')) as CacheIndex;
  } catch {
    throw new FacegateError('invalid', `The embedding cache ${p.index} is not valid JSON; delete it (and ${p.data}) to measure again.`);
  }
  const buf = readFileSync(p.data);
  const floats = new Float32Array(buf.buffer, buf.byteOffset, Math.floor(buf.byteLength / 4));
  const d = idx.dim;
  if (idx.version !== 1 || !Array.isArray(idx.files) || floats.length !== idx.files.length * 2 * d)
    throw new FacegateError('invalid', `The embedding cache ${p.index} does not match ${p.data}; delete both to measure again.`);
  idx.files.forEach((f, i) => {
    const o = i * 2 * d;
    out.set(f, { plain: floats.slice(o, o + d), mirror: floats.slice(o + d, o + 2 * d), noFace: Boolean(idx.noFace[i]), score: idx.score[i] ?? 0 });
  });
  return out;
}

function save(dir: string, engine: Pick<FaceEngine, 'detectorId' | 'embedderId'>, all: Map<string, EmbeddedImage>): void {
  if (!all.size) return;
  mkdirSync(dir, { recursive: true });
  const p = cachePaths(dir, engine);
  const files = [...all.keys()];
  const d = all.get(files[0]!)!.plain.length;
  const floats = new Float32Array(files.length * 2 * d);
  files.forEach((f, i) => {
    const e = all.get(f)!;
    floats.set(e.plain, i * 2 * d);
    floats.set(e.mirror, i * 2 * d + d);
  });
  const index: CacheIndex = {
    version: 1,
    detectorId: engine.detectorId,
    embedderId: engine.embedderId,
    dim: d,
    files,
    noFace: files.map((f) => all.get(f)!.noFace),
    score: files.map((f) => all.get(f)!.score),
  };
  writeFileSync(`${p.data}.tmp`, Buffer.from(floats.buffer));
  writeFileSync(`${p.index}.tmp`, JSON.stringify(index));
  renameSync(`${p.data}.tmp`, p.data);
  renameSync(`${p.index}.tmp`, p.index);
}

/**
 * Embeddings of `files` (paths relative to dataDir): read from the cache in `cacheDir` when present, the rest
 * computed and added to it (saved every `checkpoint` images, so an interrupted run resumes).
 */
export async function embedWithCache(
  engine: FaceEngine,
  dataDir: string,
  files: readonly string[],
  opts: { cacheDir?: string; batch?: number; checkpoint?: number; progress?: (done: number, total: number) => void } = {},
): Promise<Map<string, EmbeddedImage>> {
  const all = opts.cacheDir ? load(opts.cacheDir, engine) : new Map<string, EmbeddedImage>();
  const todo = files.filter((f) => !all.has(f));
  const B = opts.batch ?? 16;
  const every = opts.checkpoint ?? 512;
  let sinceSave = 0;
  for (let i = 0; i < todo.length; i += B) {
    const names = todo.slice(i, i + B);
    const imgs = await Promise.all(names.map((f) => decodeImage(path.join(dataDir, f))));
    const dets = await engine.detect(imgs);
    const found = imgs.map((img, k) => closestToCentre(dets[k]!, img.width, img.height));
    const crops = imgs.map((img, k) => alignFace(img, (found[k] ?? centredDefault(img.width, img.height)).landmarks, 112).image);
    const e = await engine.embedAligned([...crops, ...crops.map(flipHorizontal)]);
    names.forEach((n, k) => all.set(n, { plain: e[k]!, mirror: e[names.length + k]!, noFace: !found[k], score: found[k]?.score ?? 0 }));
    sinceSave += names.length;
    if (opts.cacheDir && sinceSave >= every) {
      save(opts.cacheDir, engine, all);
      sinceSave = 0;
    }
    opts.progress?.(files.length - todo.length + Math.min(i + B, todo.length), files.length);
  }
  if (opts.cacheDir && sinceSave) save(opts.cacheDir, engine, all);
  const out = new Map<string, EmbeddedImage>();
  for (const f of files) out.set(f, all.get(f)!);
  return out;
}
