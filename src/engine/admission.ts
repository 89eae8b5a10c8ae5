/**
 * Admission control for heavy engine work outside the camera loop (photo uploads, CLI jobs over the local
 * socket): at most `concurrency` jobs run at once, at most `maxQueued` wait in order, and beyond that a job is
 * refused at once with BusyError (HTTP 429 with Retry-After) instead of piling up memory and starving the loop.
 */
import { FacegateError } from '../util/errors.js';

export interface AdmissionOptions {
  concurrency: number;
  maxQueued: number;
}

export interface AdmissionStats {
  running: number;
  queued: number;
  /** Jobs refused because the queue was full. */
  refused: number;
  /** Jobs finished (succeeded or failed). */
  done: number;
}

/** The queue is full; try again after `retryAfterSeconds`. */
export class BusyError extends FacegateError {
  constructor(readonly retryAfterSeconds: number) {
    super('busy', `The appliance is busy with other photos; try again in ${retryAfterSeconds} s.`);
  }
}

export class Admission {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private refused = 0;
  private done = 0;
  /** Moving average of a job's duration, ms, for Retry-After. */
  private avgMs = 1000;

  constructor(private readonly opts: AdmissionOptions) {}

  get stats(): AdmissionStats {
    return { running: this.running, queued: this.waiting.length, refused: this.refused, done: this.done };
  }

  /** Runs `job` when a slot is free; BusyError when `maxQueued` jobs already wait. */
  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.running >= this.opts.concurrency) {
      if (this.waiting.length >= this.opts.maxQueued) {
        this.refused++;
        throw new BusyError(this.retryAfter());
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.running++;
    const t0 = performance.now();
    try {
      return await job();
    } finally {
      this.avgMs = 0.8 * this.avgMs + 0.2 * (performance.now() - t0);
      this.done++;
      const next = this.waiting.shift();
      // The slot passes straight to the next job, so `running` stays the same.
      if (next) next();
      else this.running--;
    }
  }

  /** Whole seconds until the queue has likely moved on by one job per slot, at least 1. */
  private retryAfter(): number {
    return Math.max(1, Math.ceil(((this.waiting.length + this.running) * this.avgMs) / this.opts.concurrency / 1000));
  }
}
