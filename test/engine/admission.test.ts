/** Admission control: bounded concurrency, bounded waiting line in order, refusals with a Retry-After estimate. */
import { describe, expect, it } from 'vitest';
import { Admission, BusyError } from '../../src/engine/admission.js';

/** A job that runs until released, recording when it starts. */
function gate(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { job: async () => (log.push(name), await done, name), release };
}

describe('Admission', () => {
  it('runs at most `concurrency` jobs, queues `maxQueued` in order, refuses the rest with BusyError', async () => {
    const a = new Admission({ concurrency: 1, maxQueued: 2 });
    const started: string[] = [];
    const g = ['a', 'b', 'c'].map((n) => gate(started, n));
    const runs = g.map((x) => a.run(x.job));
    await Promise.resolve();
    expect(started).toEqual(['a']);
    expect(a.stats).toMatchObject({ running: 1, queued: 2 });
    const refused = await a.run(async () => 'd').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BusyError);
    expect((refused as BusyError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((refused as BusyError).message).toMatch(/^The appliance is busy with other photos; try again in \d+ s\.$/);
    g[0]!.release();
    expect(await runs[0]).toBe('a');
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual(['a', 'b']);
    g[1]!.release();
    g[2]!.release();
    expect(await Promise.all(runs)).toEqual(['a', 'b', 'c']);
    expect(a.stats).toEqual({ running: 0, queued: 0, refused: 1, done: 3 });
  });

  it('a failing job frees its slot', async () => {
    const a = new Admission({ concurrency: 1, maxQueued: 0 });
    await expect(a.run(async () => Promise.reject(new Error('bad photo')))).rejects.toThrow('bad photo');
    expect(await a.run(async () => 7)).toBe(7);
  });
});
