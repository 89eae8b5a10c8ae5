/**
 * A face engine spread over worker threads, each with its own models and single-threaded sessions. A call is cut
 * into jobs (an even share of its frames per worker, or a few aligned crops) that go into one queue; the least
 * busy worker takes the next job while it holds fewer than two, so it never waits for the main thread between
 * jobs, and a batch of N frames runs on up to N cores at once. Concurrent calls share the queue in arrival order.
 * On small CPUs this beats one engine whose onnxruntime thread pool splits every small op across the cores. A
 * worker that dies fails only the jobs it held and is restarted for the next one.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EngineConfig, QualityConfig } from '../config/schema.js';
import { FacegateError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/log.js';
import type { RgbImage } from '../vision/types.js';
import type { EngineOptions } from './index.js';
import type { WorkerInit, WorkerMessage, WorkerRequest } from './pool-worker.js';
import type { FaceEngine, FrameFaces, StageTimes } from './types.js';
import { CPU_EMBED_BATCH } from './embedder.js';

/** The compiled worker script: beside this module in dist/, or dist/engine/ when running from src/ (tests). */
function workerScript(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const p of [path.join(here, 'pool-worker.js'), path.resolve(here, '../../dist/engine/pool-worker.js')]) if (existsSync(p)) return p;
  throw new FacegateError('engine_worker', 'the engine worker script dist/engine/pool-worker.js is missing; run `npm run build`');
}

/** Cuts `items` into consecutive chunks of at most `size` (the last may be shorter). */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

type Request =
  | { op: 'analyze'; frames: RgbImage[]; gate?: Partial<QualityConfig> }
  | { op: 'detect'; frames: RgbImage[] }
  | { op: 'embedAligned'; crops: RgbImage[] }
  | { op: 'close' };
interface Pending {
  resolve(v: { value: unknown; times?: StageTimes }): void;
  reject(e: Error): void;
}
type Ready = Extract<WorkerMessage, { kind: 'ready' }>;

/**
 * Jobs handed to a worker at once: the one it runs and the next, already in its message queue, so it starts that
 * one without waiting for the main thread to answer (a busy main thread or a 700 kB frame to copy left it idle).
 */
export const JOBS_PER_WORKER = 2;

const PINO_LEVELS: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** One worker thread and the jobs (plus a close request) it holds. */
class EngineWorker {
  private worker: Worker | null = null;
  private starting: Promise<Ready> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopping = false;

  constructor(
    private readonly index: number,
    private readonly init: WorkerInit,
    private readonly log: Logger,
  ) {}

  start(): Promise<Ready> {
    if (this.starting) return this.starting;
    this.starting = new Promise<Ready>((resolve, reject) => {
      const w = new Worker(workerScript(), { workerData: this.init });
      this.worker = w;
      let ready = false;
      w.on('message', (m: WorkerMessage) => {
        if (m.kind === 'log') return this.relay(m.line);
        if (m.kind === 'ready') return ((ready = true), resolve(m));
        if (m.kind === 'failed') return reject(new FacegateError(m.code, m.message));
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.kind === 'result') p.resolve({ value: m.value, times: m.times });
        else p.reject(new FacegateError(m.code, m.message));
      });
      const fail = (why: string) => {
        this.worker = null;
        this.starting = null;
        if (!ready) reject(new FacegateError('engine_worker', `face engine worker ${this.index} failed to start: ${why}`));
        if (!this.stopping && ready) this.log.error({ worker: this.index, why }, 'face engine worker stopped; it restarts for the next job');
        for (const p of this.pending.values()) p.reject(new FacegateError('engine_worker', `face engine worker ${this.index} stopped: ${why}`));
        this.pending.clear();
      };
      w.on('error', (e) => fail(e.message));
      w.on('exit', (code) => {
        if (this.worker === w) fail(`exit code ${code}`);
      });
    });
    return this.starting;
  }

  async call(req: Request): Promise<{ value: unknown; times?: StageTimes }> {
    await this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker!.postMessage({ ...req, id } as WorkerRequest);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const w = this.worker;
    if (!w) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([this.call({ op: 'close' }), new Promise((r) => (timer = setTimeout(r, 5000)))]);
    } catch {
      // Already gone.
    } finally {
      clearTimeout(timer);
    }
    this.worker = null;
    await w.terminate();
  }

  private relay(line: string): void {
    try {
      const { level, msg, time: _t, pid: _p, hostname: _h, ...rest } = JSON.parse(line) as Record<string, unknown>;
      this.log[PINO_LEVELS[level as number] ?? 'info']({ ...rest, worker: this.index }, typeof msg === 'string' ? msg : JSON.stringify(msg ?? ''));
    } catch {
      this.log.info({ worker: this.index }, line.trim());
    }
  }
}

/**
 * Frames per job for a call of `frames` frames: an even share per worker, so every worker gets work, and the
 * faces of a worker's frames go through O-Net and the embedder together (fewer, fuller runs).
 */
export function framesPerJob(frames: number, workers: number): number {
  return Math.max(1, Math.ceil(frames / workers));
}

/** Worker count for `engine.workers` = 0: one per core (at most 4) on CPU, one when a GPU provider comes first. */
export function autoWorkers(cfg: EngineConfig, cores: number): number {
  return cfg.providers[0] === 'cpu' ? Math.max(1, Math.min(4, cores)) : 1;
}

export async function createEnginePool(cfg: EngineConfig, workers: number, cores: number, opts: EngineOptions = {}): Promise<FaceEngine> {
  if (!(Number.isInteger(workers) && workers >= 2)) throw new FacegateError('config', `an engine pool needs at least 2 workers (got ${workers})`);
  const log = opts.log ?? silentLogger();
  // The cores are shared out between the workers' sessions unless the config fixes the thread count.
  const threads = cfg.threads > 0 ? cfg.threads : Math.max(1, Math.floor(cores / workers));
  const init: WorkerInit = { engine: { ...cfg, threads }, enginesDir: opts.enginesDir, baseDir: opts.baseDir, quality: opts.quality, logLevel: log.level };
  const pool = Array.from({ length: workers }, (_, i) => new EngineWorker(i, init, log));
  let first: Ready;
  try {
    first = (await Promise.all(pool.map((w) => w.start())))[0]!;
  } catch (e) {
    await Promise.all(pool.map((w) => w.stop()));
    throw e;
  }
  let closed = false;

  /** Jobs waiting for a worker, oldest first. */
  const queue: { req: Request; done: Pending }[] = [];
  /** Jobs each worker holds (running or next in its own queue). */
  const held = new Map(pool.map((w) => [w, 0]));
  const pump = () => {
    while (queue.length) {
      // The least busy worker, while it holds fewer than JOBS_PER_WORKER.
      let w: EngineWorker | null = null;
      for (const [x, n] of held) if (n < JOBS_PER_WORKER && (w === null || n < held.get(w)!)) w = x;
      if (!w) return;
      const job = queue.shift()!;
      const mine = w;
      held.set(mine, held.get(mine)! + 1);
      mine.call(job.req).then(
        (r) => (held.set(mine, held.get(mine)! - 1), job.done.resolve(r), pump()),
        (e: Error) => (held.set(mine, held.get(mine)! - 1), job.done.reject(e), pump()),
      );
    }
  };
  const submit = (req: Request) =>
    new Promise<{ value: unknown; times?: StageTimes }>((resolve, reject) => {
      queue.push({ req, done: { resolve, reject } });
      pump();
    });

  /** Runs each part as one job; results in the order of the parts. */
  async function spread<T, R>(parts: T[][], make: (part: T[]) => Request, times?: StageTimes): Promise<R[]> {
    if (closed) throw new FacegateError('engine_closed', 'the face engine has been closed');
    if (parts.length === 0) return [];
    const done = await Promise.all(parts.map((part) => submit(make(part))));
    if (times) {
      // Jobs run side by side: a stage's share of the call is its time over all jobs divided by the workers used.
      const used = Math.min(workers, parts.length);
      for (const key of ['detect', 'align', 'embed'] as const) times[key] = done.reduce((t, d) => t + (d.times?.[key] ?? 0), 0) / used;
    }
    return done.flatMap((d) => d.value as R[]);
  }

  log.info(
    { workers, threadsPerWorker: threads, detector: first.detectorId, embedder: first.embedderId, provider: first.provider },
    'face engine workers ready',
  );
  return {
    embedderId: first.embedderId,
    detectorId: first.detectorId,
    defaultThreshold: first.defaultThreshold,
    provider: first.provider,
    parallelism: workers,
    detect: (frames) => spread(chunks(frames, framesPerJob(frames.length, workers)), (part) => ({ op: 'detect', frames: part })),
    analyze: (frames, gate, times) =>
      spread<RgbImage, FrameFaces>(chunks(frames, framesPerJob(frames.length, workers)), (part) => ({ op: 'analyze', frames: part, gate }), times),
    embedAligned: (crops) => spread(chunks(crops, CPU_EMBED_BATCH), (part) => ({ op: 'embedAligned', crops: part })),
    async close() {
      if (closed) return;
      closed = true;
      for (const job of queue.splice(0)) job.done.reject(new FacegateError('engine_closed', 'the face engine has been closed'));
      await Promise.all(pool.map((w) => w.stop()));
    },
  };
}
