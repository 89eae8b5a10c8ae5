/** The durable event queue: journal replayed in order, acks and drops journalled, compaction, SIGKILL loses nothing. */
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DurableQueue } from '../../src/mqtt/queue.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dirs: string[] = [];
const tmpFile = async () => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'facegate-queue-'));
  dirs.push(d);
  return path.join(d, 'mqtt-queue.jsonl');
};
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
const items = <T>(q: DurableQueue<T>) => q.peek(1e9).map((e) => e.item);

describe('DurableQueue', () => {
  it('replays unacknowledged items in order after close and reopen', async () => {
    const file = await tmpFile();
    const q = new DurableQueue<string>(100, { file });
    q.open();
    const e = ['a', 'b', 'c', 'd'].map((x) => q.push(x));
    expect(q.ack(e[1]!.seq)).toBe(true);
    expect(q.ack(e[1]!.seq)).toBe(false);
    q.close();
    const again = new DurableQueue<string>(100, { file });
    again.open();
    expect(again.replayed).toBe(3);
    expect(items(again)).toEqual(['a', 'c', 'd']);
    // New items follow the replayed ones.
    again.push('e');
    expect(items(again)).toEqual(['a', 'c', 'd', 'e']);
    again.close();
  });

  it('beyond the bound drops the oldest, counts and reports them; the drop is journalled', async () => {
    const file = await tmpFile();
    const dropped: number[] = [];
    const q = new DurableQueue<number>(3, { file, onDrop: (s) => dropped.push(s) });
    q.open();
    for (let i = 1; i <= 5; i++) q.push(i);
    expect(items(q)).toEqual([3, 4, 5]);
    expect(q.dropped).toBe(2);
    expect(dropped).toEqual([1, 2]);
    // Not closed (as after a crash): the journal alone says what is left.
    const again = new DurableQueue<number>(3, { file });
    again.open();
    expect(items(again)).toEqual([3, 4, 5]);
    again.close();
    q.close();
  });

  it('ignores a torn last line (a crash mid-write)', async () => {
    const file = await tmpFile();
    const q = new DurableQueue<string>(10, { file });
    q.open();
    q.push('kept');
    appendFileSync(file, '{"s":99,"v":"tor');
    const again = new DurableQueue<string>(10, { file });
    again.open();
    expect(items(again)).toEqual(['kept']);
    again.close();
    q.close();
  });

  it('compacts: a long run of acknowledged events leaves a small file', async () => {
    const file = await tmpFile();
    const q = new DurableQueue<{ payload: string }>(100, { file });
    q.open();
    for (let i = 0; i < 5000; i++) q.ack(q.push({ payload: 'x'.repeat(200) }).seq);
    q.push({ payload: 'last' });
    expect(statSync(file).size).toBeLessThan(1000 * 260);
    q.close();
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('a process killed with SIGKILL right after queueing loses nothing', async () => {
    const file = await tmpFile();
    const src = `import { DurableQueue } from ${JSON.stringify(path.join(repo, 'dist/mqtt/queue.js'))};
      const q = new DurableQueue(100000, { file: ${JSON.stringify(file)}, syncMs: 60000 });
      q.open();
      for (let i = 0; i < 2000; i++) { const e = q.push({ n: i }); if (i % 2) q.ack(e.seq); }
      console.log('queued');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((r) => child.stdout.once('data', r));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const q = new DurableQueue<{ n: number }>(100000, { file });
    q.open();
    expect(items(q).map((x) => x.n)).toEqual(Array.from({ length: 1000 }, (_, i) => i * 2));
    q.close();
  });
});
