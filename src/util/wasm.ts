/**
 * Loads the WebAssembly modules that `npm run build` compiles from src/wasm (AssemblyScript) into dist/wasm.
 * The compiler's lib (ES2023 + node) has no WebAssembly types: the little used here is declared.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { FacegateError } from './errors.js';

export interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** src/util or dist/util are both two levels below the repo root. */
export const WASM_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/wasm');

const PAGE = 65536;

/** The first 16-byte-aligned offset after a module's own data (its exported `heapBase()`). */
export function heapStart(kernel: { heapBase(): number }): number {
  return (kernel.heapBase() + 15) & ~15;
}

/** Grows `memory` so that bytes up to offset `end` exist (growing detaches earlier views of its buffer). */
export function reserve(memory: WasmMemory, end: number): void {
  const short = end - memory.buffer.byteLength;
  if (short > 0) memory.grow(Math.ceil(short / PAGE));
}

const compiled = new Map<string, object>();

/** A new instance of dist/wasm/<name>.wasm (compiled once per thread); its exports typed as `T`. */
export function instantiateWasm<T>(name: string): T {
  if (!api) throw new FacegateError('wasm_unavailable', 'This Node.js has no WebAssembly support.');
  let mod = compiled.get(name);
  if (!mod) {
    // Optimised code from the first call: by default V8 first runs a module with its baseline compiler, and a
    // kernel called now and then (an enrolment's look-alike check) stayed there for its first calls, 5-15x slower
    // (22 and 42 ms instead of 2.5 ms for 60,000 rows). Our kernels are small, so compiling them fully costs little.
    setFlagsFromString('--no-liftoff');
    const file = path.join(WASM_DIR, `${name}.wasm`);
    if (!existsSync(file)) throw new FacegateError('build_missing', `${file} is missing; run \`npm run build\``);
    compiled.set(name, (mod = new api.Module(readFileSync(file))));
  }
  return new api.Instance(mod, {}).exports as T;
}
