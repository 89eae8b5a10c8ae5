/**
 * Face embedders: the generated mobilefacenet (uint8 NHWC input, normalisation inside the graph) or a
 * bring-your-own ArcFace-style ONNX whose input layout is read from the model (NCHW/NHWC float, or uint8 NHWC).
 */
import path from 'node:path';
import { createSession, type Session, type SessionOptions } from '../runtime/session.js';
import { manifestModel } from '../runtime/manifest.js';
import { nhwcToNchw } from '../vision/tensor.js';
import { FacegateError } from '../util/errors.js';

export interface Embedder {
  readonly modelId: string;
  readonly id: string;
  readonly size: number;
  readonly dim: number;
  readonly provider: string;
  /** Embeds `n` crops stored NHWC uint8 (size x size) in `batch`; returns raw (not normalised) vectors. */
  embedBatch(batch: Uint8Array, n: number): Promise<Float32Array[]>;
  close(): Promise<void>;
}

type Layout = 'uint8-nhwc' | 'float-nchw' | 'float-nhwc';

/**
 * Faces per run on the CPU provider (engine.maxBatch still caps it): MobileFaceNet single-thread took 8.4 ms/face
 * at 4, 9.2 at 8 and 10.4 at 16, as larger runs spill the activations out of cache.
 */
export const CPU_EMBED_BATCH = 4;

const ARCFACE_NORM = { channelOrder: 'rgb', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] } as const;

export async function createEmbedder(
  kind: 'mobilefacenet' | 'arcface',
  modelPath: string | undefined,
  enginesDir: string,
  opts: SessionOptions & { maxBatch: number },
): Promise<Embedder> {
  let session: Session;
  let modelId: string;
  if (kind === 'mobilefacenet') {
    const { file, entry } = manifestModel(enginesDir, 'mobilefacenet');
    session = await createSession(file, { ...opts, expect: entry });
    modelId = 'mobilefacenet';
  } else {
    if (!modelPath) throw new FacegateError('config', 'engine.embedder.model is required for embedder kind "arcface"');
    session = await createSession(modelPath, opts);
    modelId = path.basename(modelPath).replace(/\.onnx$/i, '');
  }
  const input = session.inputs[0];
  const output = session.outputs[0];
  if (!input || !output || input.shape.length !== 4) {
    await session.release();
    throw new FacegateError(
      'model_mismatch',
      `embedder ${session.path} must take one 4-D image input (has ${session.inputs.map((i) => `${i.name}[${i.shape}]`).join(', ')})`,
    );
  }
  const s = input.shape;
  const layout: Layout = input.dtype === 'uint8' ? 'uint8-nhwc' : s[1] === 3 ? 'float-nchw' : 'float-nhwc';
  const side = (layout === 'float-nchw' ? s[2] : s[1]) ?? 0;
  const size = side > 0 ? side : 112;
  const fixedBatch = Math.max(0, s[0] ?? 0);
  const dim = output.shape[output.shape.length - 1];
  const per = size * size * 3;

  const runChunk = async (batch: Uint8Array, start: number, n: number): Promise<Float32Array[]> => {
    const src = batch.subarray(start * per, (start + n) * per);
    let feed;
    if (layout === 'uint8-nhwc') feed = { data: src, dims: [n, size, size, 3] };
    else {
      const f = new Float32Array(n * per);
      if (layout === 'float-nchw') for (let i = 0; i < n; i++) nhwcToNchw(src, i * per, size, size, f, i * per, ARCFACE_NORM);
      else for (let i = 0; i < src.length; i++) f[i] = (src[i]! - 127.5) / 127.5;
      feed = { data: f, dims: layout === 'float-nchw' ? [n, 3, size, size] : [n, size, size, 3] };
    }
    const out = (await session.runFloat({ [input.name]: feed }))[output.name]!;
    const d = out.data.length / n;
    return Array.from({ length: n }, (_, i) => out.data.slice(i * d, (i + 1) * d));
  };

  const step = fixedBatch || (session.provider === 'cpu' ? Math.min(opts.maxBatch, CPU_EMBED_BATCH) : opts.maxBatch);
  return {
    modelId,
    id: `${modelId}@${session.sha256.slice(0, 12)}`,
    size: size,
    dim: dim!,
    provider: session.provider,
    async embedBatch(batch, n) {
      const out: Float32Array[] = [];
      for (let i = 0; i < n; i += step) out.push(...(await runChunk(batch, i, Math.min(step, n - i))));
      return out;
    },
    close: () => session.release(),
  };
}

export function l2normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const k = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let i = 0; i < v.length; i++) v[i]! *= k;
  return v;
}
