/**
 * The only module that imports onnxruntime-node. Sessions are created with providers tried in order
 * (falling back with one log line per unavailable provider), checked against the manifest entry,
 * warmed up, and expose plain typed-array outputs so no other module sees onnxruntime types.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { FacegateError } from '../util/errors.js';
import type { Logger } from '../util/log.js';

export type Provider = 'tensorrt' | 'cuda' | 'cpu';
export type DType = 'uint8' | 'float32' | 'int64' | 'int32';
export type Dim = number | string;

/** A plain tensor: row-major data and its shape. */
export interface Tensor {
  data: Float32Array | Uint8Array | Int32Array | BigInt64Array;
  dims: number[];
}
export interface FloatTensor {
  data: Float32Array;
  dims: number[];
}

/** Manifest entry (engines/manifest.json) as far as the runtime needs it. */
export interface ManifestIO {
  name: string;
  shape: Dim[];
  dtype?: string;
}
export interface ManifestEntry {
  file: string;
  sha256?: string;
  inputs: ManifestIO[];
  outputs: ManifestIO[];
}

export interface IOInfo {
  name: string;
  /** Dynamic dims are -1. */
  shape: number[];
  dtype: string;
}

export interface SessionOptions {
  providers?: Provider[];
  threads?: number;
  trtFp16?: boolean;
  /** TensorRT engine cache goes to <enginesDir>/trt-cache. */
  enginesDir?: string;
  log?: Logger;
  expect?: ManifestEntry;
  /** Feeds for the warm-up run; default: one sample with every dynamic dim set to `warmupDim`. */
  warmup?: Record<string, Tensor> | false;
  warmupDim?: number;
}

export interface Session {
  readonly path: string;
  readonly sha256: string;
  readonly provider: Provider;
  readonly inputs: IOInfo[];
  readonly outputs: IOInfo[];
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  /** run() for models whose outputs are all float32. */
  runFloat(feeds: Record<string, Tensor>): Promise<Record<string, FloatTensor>>;
  release(): Promise<void>;
}

let backendsCache: Map<string, boolean> | null = null;

/** Which providers this onnxruntime-node build carries. */
export function availableProviders(): Map<string, boolean> {
  if (!backendsCache) {
    backendsCache = new Map();
    try {
      for (const b of ort.listSupportedBackends()) backendsCache.set(b.name, b.bundled);
    } catch {
      backendsCache.set('cpu', true);
    }
  }
  return backendsCache;
}

const sha256File = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

const toShape = (dims: readonly (number | string)[] | undefined): number[] => (dims ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : -1));

function ioInfo(meta: readonly ort.InferenceSession.ValueMetadata[]): IOInfo[] {
  return meta.map((m) => (m.isTensor ? { name: m.name, shape: toShape(m.shape), dtype: m.type } : { name: m.name, shape: [], dtype: 'non-tensor' }));
}

/** Compare the loaded graph with the manifest entry; return a list of differences. */
function diffAgainst(kind: 'input' | 'output', actual: IOInfo[], expected: ManifestIO[]): string[] {
  const out: string[] = [];
  for (const e of expected) {
    const a = actual.find((x) => x.name === e.name);
    if (!a) {
      out.push(`${kind} "${e.name}" missing (model has ${actual.map((x) => x.name).join(', ') || 'none'})`);
      continue;
    }
    if (e.dtype && a.dtype !== e.dtype) out.push(`${kind} "${e.name}" dtype ${a.dtype}, expected ${e.dtype}`);
    const es = toShape(e.shape);
    if (es.length !== a.shape.length) out.push(`${kind} "${e.name}" rank ${a.shape.length}, expected ${es.length}`);
    else
      es.forEach((d, i) => {
        if (d > 0 && a.shape[i]! > 0 && d !== a.shape[i]) out.push(`${kind} "${e.name}" dim ${i} is ${a.shape[i]}, expected ${d}`);
      });
  }
  return out;
}

function providerConfig(p: Provider, opts: SessionOptions): ort.InferenceSession.ExecutionProviderConfig {
  if (p === 'tensorrt') {
    // The Node binding only passes deviceId to TensorRT; the rest is read by the EP from ORT_TENSORRT_* variables.
    process.env.ORT_TENSORRT_FP16_ENABLE ??= opts.trtFp16 === false ? '0' : '1';
    if (opts.enginesDir) {
      const cache = path.join(opts.enginesDir, 'trt-cache');
      try {
        mkdirSync(cache, { recursive: true });
        process.env.ORT_TENSORRT_ENGINE_CACHE_ENABLE ??= '1';
        process.env.ORT_TENSORRT_CACHE_PATH ??= cache;
      } catch {
        opts.log?.warn({ cache }, 'TensorRT engine cache folder cannot be created; engines are rebuilt at each start');
      }
    }
    return { name: 'tensorrt', deviceId: 0 };
  }
  if (p === 'cuda') return { name: 'cuda', deviceId: 0 };
  return { name: 'cpu' };
}

function zeroTensor(info: IOInfo, dyn: number): ort.Tensor {
  const dims = info.shape.map((d, i) => (d > 0 ? d : i === 0 ? 1 : dyn));
  const n = dims.reduce((a, b) => a * b, 1);
  switch (info.dtype) {
    case 'uint8':
      return new ort.Tensor('uint8', new Uint8Array(n), dims);
    case 'int64':
      return new ort.Tensor('int64', new BigInt64Array(n), dims);
    case 'int32':
      return new ort.Tensor('int32', new Int32Array(n), dims);
    default:
      return new ort.Tensor('float32', new Float32Array(n), dims);
  }
}

function toOrt(t: Tensor): ort.Tensor {
  const d = t.data;
  if (d instanceof Uint8Array) return new ort.Tensor('uint8', d, t.dims);
  if (d instanceof Int32Array) return new ort.Tensor('int32', d, t.dims);
  if (d instanceof BigInt64Array) return new ort.Tensor('int64', d, t.dims);
  return new ort.Tensor('float32', d, t.dims);
}

/** Open a model: providers in order, shape checks, warm-up. Throws FacegateError on a missing/corrupt/wrong file. */
export async function createSession(modelPath: string, opts: SessionOptions = {}): Promise<Session> {
  const file = path.resolve(modelPath);
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new FacegateError('model_missing', `model file ${file} not found (run \`facegate models\` to build the default models)`);
  }
  if (size === 0) throw new FacegateError('model_corrupt', `model file ${file} is empty`);
  const sha256 = sha256File(file);
  if (opts.expect?.sha256 && opts.expect.sha256 !== sha256) {
    throw new FacegateError(
      'model_mismatch',
      `model file ${file} has sha256 ${sha256.slice(0, 12)}…, manifest says ${opts.expect.sha256.slice(0, 12)}… (rebuild with \`facegate models\`)`,
    );
  }

  const wanted = opts.providers?.length ? opts.providers : (['cpu'] as Provider[]);
  const order = wanted.includes('cpu') ? wanted : [...wanted, 'cpu' as Provider];
  const backends = availableProviders();
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    ...(opts.threads && opts.threads > 0 ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
    logSeverityLevel: 3,
    // The engine alternates between several sessions (P/R/O-Net, embedder), each with its own thread pool: a pool
    // that spin-waits after its run steals the cores from the next session, so idle threads sleep instead.
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };

  let session: ort.InferenceSession | null = null;
  let used: Provider = 'cpu';
  let lastErr: unknown = null;
  for (const p of order) {
    if (p !== 'cpu' && backends.get(p) !== true) {
      opts.log?.warn({ provider: p, model: path.basename(file) }, `execution provider ${p} is not in this onnxruntime-node build; falling back`);
      continue;
    }
    try {
      session = await ort.InferenceSession.create(file, { ...base, executionProviders: [providerConfig(p, opts)] });
      used = p;
      break;
    } catch (e) {
      lastErr = e;
      if (p !== 'cpu')
        opts.log?.warn({ provider: p, model: path.basename(file), err: (e as Error).message }, `execution provider ${p} failed to start; falling back`);
    }
  }
  if (!session) {
    const why = ((lastErr as Error)?.message ?? String(lastErr)).split('\n')[0];
    throw new FacegateError('model_corrupt', `model file ${file} cannot be loaded as ONNX: ${why}`);
  }

  const inputs = ioInfo(session.inputMetadata);
  const outputs = ioInfo(session.outputMetadata);
  if (opts.expect) {
    const diffs = [...diffAgainst('input', inputs, opts.expect.inputs ?? []), ...diffAgainst('output', outputs, opts.expect.outputs ?? [])];
    if (diffs.length) {
      await session.release();
      throw new FacegateError('model_mismatch', `model file ${file} does not match its manifest entry: ${diffs.join('; ')}`);
    }
  }

  const s = session;
  const run = async (feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> => {
    const f: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) f[k] = toOrt(v);
    const res = await s.run(f);
    const out: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(res)) {
      out[k] = { data: v.data as Tensor['data'], dims: [...v.dims] };
      v.dispose?.();
    }
    return out;
  };

  if (opts.warmup !== false) {
    try {
      if (opts.warmup) await run(opts.warmup);
      else {
        const f: Record<string, ort.Tensor> = {};
        for (const i of inputs) f[i.name] = zeroTensor(i, opts.warmupDim ?? 64);
        await s.run(f);
      }
    } catch (e) {
      await s.release();
      throw new FacegateError('model_corrupt', `model file ${file} loads but fails its warm-up run: ${((e as Error).message ?? '').split('\n')[0]}`);
    }
  }
  opts.log?.debug({ model: path.basename(file), provider: used }, 'model loaded');

  return {
    path: file,
    sha256,
    provider: used,
    inputs,
    outputs,
    run,
    runFloat: run as Session['runFloat'],
    release: () => s.release(),
  };
}
