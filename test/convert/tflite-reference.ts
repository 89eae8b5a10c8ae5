/**
 * The real TFLite runtime as a test reference: the WASM build shipped in @tensorflow/tfjs-tflite, loaded
 * directly (its Emscripten factory accepts the wasm bytes, so no fetch/browser is needed).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

interface TensorInfo {
  name: string;
  shape: string;
  data(): Float32Array;
}
interface CppVector<T> {
  size(): number;
  get(i: number): T;
}
interface Runner {
  GetInputs(): CppVector<TensorInfo>;
  GetOutputs(): CppVector<TensorInfo>;
  Infer(): boolean;
  delete(): void;
}
interface WasmModule {
  _malloc(n: number): number;
  _free(p: number): void;
  HEAPU8: Uint8Array;
  TFLiteWebModelRunner: {
    CreateFromBufferAndOptions(ptr: number, len: number, opts: object): { ok(): boolean; errorMessage(): string; value(): Runner };
  };
}

let modulePromise: Promise<WasmModule> | undefined;

function loadModule(): Promise<WasmModule> {
  const require = createRequire(import.meta.url);
  const dir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-tflite/package.json')), 'wasm');
  const factory = require(path.join(dir, 'tflite_web_api_cc_simd.js')) as (m: object) => Promise<WasmModule>;
  return factory({ wasmBinary: readFileSync(path.join(dir, 'tflite_web_api_cc_simd.wasm')), print: () => {}, printErr: () => {} });
}

export interface ReferenceModel {
  inputShape: number[];
  outputs: { name: string; shape: number[] }[];
  /** Runs one inference on a float input in the model's own layout; returns outputs by TFLite name. */
  run(input: Float32Array): Record<string, Float32Array>;
  close(): void;
}

export async function loadReference(bytes: Uint8Array): Promise<ReferenceModel> {
  const m = await (modulePromise ??= loadModule());
  const ptr = m._malloc(bytes.length);
  m.HEAPU8.set(bytes, ptr);
  const status = m.TFLiteWebModelRunner.CreateFromBufferAndOptions(ptr, bytes.length, {
    numThreads: 1,
    enableProfiling: false,
    maxProfilingBufferEntries: 1024,
  });
  if (!status.ok()) throw new Error(`TFLite runtime refused the model: ${status.errorMessage()}`);
  const runner = status.value();
  const list = (v: CppVector<TensorInfo>) => Array.from({ length: v.size() }, (_, i) => v.get(i));
  const shapeOf = (t: TensorInfo) => String(t.shape).split(',').map(Number);
  const input = list(runner.GetInputs())[0]!;
  return {
    inputShape: shapeOf(input),
    outputs: list(runner.GetOutputs()).map((t) => ({ name: t.name, shape: shapeOf(t) })),
    run(x: Float32Array) {
      const buf = list(runner.GetInputs())[0]!.data();
      if (buf.length !== x.length) throw new Error(`reference input wants ${buf.length} values, got ${x.length}`);
      buf.set(x);
      if (!runner.Infer()) throw new Error('TFLite inference failed');
      const out: Record<string, Float32Array> = {};
      for (const t of list(runner.GetOutputs())) out[t.name] = t.data().slice();
      return out;
    },
    close() {
      runner.delete();
      m._free(ptr);
    },
  };
}
