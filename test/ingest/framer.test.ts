import { describe, expect, it } from 'vitest';
import { LatestFrame } from '../../src/ingest/framer.js';

const bytes = (from: number, n: number) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 255);

describe('LatestFrame', () => {
  it('reassembles frames split across chunks', () => {
    const f = new LatestFrame(6);
    expect(f.push(bytes(0, 4))).toBe(0);
    expect(f.take()).toBeNull();
    expect(f.push(bytes(4, 4))).toBe(1); // frame 0..5 complete, 6..7 pending
    const a = f.take()!;
    expect([...a.data]).toEqual([0, 1, 2, 3, 4, 5]);
    expect(a.seq).toBe(1);
    expect(f.take()).toBeNull();
    f.push(bytes(8, 4));
    expect([...f.take()!.data]).toEqual([6, 7, 8, 9, 10, 11]);
    expect(f.dropped).toBe(0);
  });

  it('keeps only the newest untaken frame and counts the others as dropped', () => {
    const f = new LatestFrame(4);
    f.push(bytes(0, 4)); // seq 1
    f.push(bytes(4, 2));
    f.push(bytes(6, 2)); // seq 2 replaces seq 1
    f.push(bytes(8, 13)); // seq 3, 4, 5 in one chunk, 1 byte pending
    const got = f.take()!;
    expect(got.seq).toBe(5);
    expect([...got.data]).toEqual([16, 17, 18, 19]);
    expect(f.dropped).toBe(4);
    expect(f.frames).toBe(5);
    expect(f.heldBytes).toBe(4); // only the partial frame
    f.push(bytes(21, 3));
    expect([...f.take()!.data]).toEqual([20, 21, 22, 23]);
    expect(f.heldBytes).toBe(0);
  });
});
