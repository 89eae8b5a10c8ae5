/**
 * Re-embedding after a change of embedder: every sample made by another model gets a new embedding computed
 * from its stored crop, in batches; the facebank commits them in one atomic save. Enrolment goes on meanwhile;
 * samples deleted (or re-embedded) meanwhile are skipped at the commit.
 */
import { FacegateError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { RgbImage } from '../vision/types.js';
import type { Sample } from './types.js';

export interface ReembedResult {
  updated: number;
  /** Samples whose crop could not be read; they keep their old model id (the matcher ignores them). */
  failed: string[];
}

/** A new embedding for a sample, valid only while the sample still carries model `old`. */
export interface FreshEmbedding {
  old: string;
  embedding: Float32Array;
}

/** The facebank as re-embedding sees it (store/facebank.ts). */
export interface ReembedTarget {
  samples(): Promise<Sample[]>;
  readCrop(sampleId: string): Promise<RgbImage>;
  /** Commits the fresh embeddings under `modelId` in one save; returns the ids it changed. */
  replaceEmbeddings(modelId: string, fresh: ReadonlyMap<string, FreshEmbedding>): Promise<string[]>;
}

export async function reembedSamples(
  bank: ReembedTarget,
  modelId: string,
  embedAligned: (crops: RgbImage[]) => Promise<Float32Array[]>,
  opts: { batchSize?: number; log?: Logger } = {},
): Promise<ReembedResult> {
  if (!modelId) throw new FacegateError('invalid', 'reembed needs the new model id.');
  const batchSize = opts.batchSize ?? 32;
  const todo = (await bank.samples()).filter((s) => s.modelId !== modelId);
  const fresh = new Map<string, FreshEmbedding>();
  const failed: string[] = [];
  for (let i = 0; i < todo.length; i += batchSize) {
    const batch = todo.slice(i, i + batchSize);
    const crops: RgbImage[] = [];
    const ok: Sample[] = [];
    for (const s of batch) {
      try {
        crops.push(await bank.readCrop(s.id));
        ok.push(s);
      } catch {
        failed.push(s.id);
      }
    }
    if (!ok.length) continue;
    const out = await embedAligned(crops);
    if (out.length !== ok.length) throw new FacegateError('reembed', `The embedder returned ${out.length} embeddings for ${ok.length} crops.`);
    ok.forEach((s, k) => fresh.set(s.id, { old: s.modelId, embedding: out[k]! }));
  }
  if (failed.length) opts.log?.warn({ failed: failed.length }, 'facebank: crops missing or unreadable, samples not re-embedded');
  const updated = await bank.replaceEmbeddings(modelId, fresh);
  return { updated: updated.length, failed };
}
