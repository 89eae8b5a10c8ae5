/**
 * One face engine in a worker thread (see pool.ts). Requests are served one at a time, in arrival order; log
 * lines go to the parent as pino JSON.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import type { EngineConfig, QualityConfig } from '../config/schema.js';
import { isErrorCode, type ErrorCode } from '../errors/codes.js';
import type { RgbImage } from '../vision/types.js';
import { createFaceEngine } from './index.js';
import type { FaceEngine, StageTimes } from './types.js';

export interface WorkerInit {
  engine: EngineConfig;
  enginesDir?: string;
  baseDir?: string;
  quality?: Partial<QualityConfig>;
  logLevel: string;
}

export type WorkerRequest =
  | { id: number; op: 'analyze'; frames: RgbImage[]; gate?: Partial<QualityConfig> }
  | { id: number; op: 'detect'; frames: RgbImage[] }
  | { id: number; op: 'embedAligned'; crops: RgbImage[] }
  | { id: number; op: 'close' };

export type WorkerMessage =
  | { kind: 'ready'; embedderId: string; detectorId: string; defaultThreshold: number; provider: string }
  | { kind: 'failed'; code: ErrorCode; message: string }
  | { kind: 'result'; id: number; value: unknown; times?: StageTimes }
  | { kind: 'error'; id: number; code: ErrorCode; message: string }
  | { kind: 'log'; line: string };

const port = parentPort!;
const init = workerData as WorkerInit;
const post = (m: WorkerMessage) => port.postMessage(m);
const errorOf = (e: unknown): { code: ErrorCode; message: string } => {
  const code = (e as { code?: unknown }).code;
  return { code: isErrorCode(code) ? code : 'engine_error', message: (e as Error).message ?? String(e) };
};
const log = pino({ level: init.logLevel }, { write: (line: string) => post({ kind: 'log', line }) });

let engine: FaceEngine;
try {
  engine = await createFaceEngine(init.engine, { log, enginesDir: init.enginesDir, baseDir: init.baseDir, quality: init.quality });
  post({ kind: 'ready', embedderId: engine.embedderId, detectorId: engine.detectorId, defaultThreshold: engine.defaultThreshold, provider: engine.provider });
} catch (e) {
  post({ kind: 'failed', ...errorOf(e) });
  process.exit(1);
}

/** Typed arrays that own their whole buffer (a result's aligned crops and embeddings): moved to the parent, not copied. */
function owned(views: ArrayBufferView[]): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  for (const v of views) if (v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) out.add(v.buffer);
  return [...out];
}

async function serve(req: WorkerRequest): Promise<void> {
  try {
    if (req.op === 'close') {
      await engine.close();
      post({ kind: 'result', id: req.id, value: null });
      port.close();
      return;
    }
    if (req.op === 'analyze') {
      const times: StageTimes = { detect: 0, align: 0, embed: 0 };
      const value = await engine.analyze(req.frames, req.gate, times);
      port.postMessage(
        { kind: 'result', id: req.id, value, times } satisfies WorkerMessage,
        owned(value.flatMap((r) => r.faces.flatMap((f) => [f.aligned.data, f.embedding]))),
      );
    } else if (req.op === 'detect') post({ kind: 'result', id: req.id, value: await engine.detect(req.frames) });
    else {
      const value = await engine.embedAligned(req.crops);
      port.postMessage({ kind: 'result', id: req.id, value } satisfies WorkerMessage, owned(value));
    }
  } catch (e) {
    post({ kind: 'error', id: req.id, ...errorOf(e) });
  }
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (req: WorkerRequest) => {
  queue = queue.then(() => serve(req));
});
