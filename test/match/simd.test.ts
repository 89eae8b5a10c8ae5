import { describe, expect, it } from 'vitest';
import { SimdDots } from '../../src/match/simd.js';
import { Matcher } from '../../src/match/matcher.js';
import { ONE, fixedUnit, rowDot, similarityErrorBound } from '../../src/match/rows.js';
import { randomUnit, rng, unitWithCosine } from '../../src/match/random.js';

const SCALE = Math.fround(1 / (ONE * ONE));

/** n random unit rows of size d in fixed point, side by side. */
function fixedRows(n: number, d: number, rand: () => number): Int16Array {
  const m = new Int16Array(n * d);
  for (let r = 0; r < n; r++) m.set(fixedUnit(randomUnit(d, rand)), r * d);
  return m;
}

describe('SimdDots (int16 rows)', () => {
  it('gives the same float32 similarities as the plain-JS path, for every row', () => {
    const rand = rng(3);
    for (const [n, d] of [
      [1, 8],
      [7, 192],
      [300, 512],
    ] as const) {
      const m = fixedRows(n, d, rand);
      const q = fixedUnit(randomUnit(d, rand));
      const s = SimdDots.create(m, n, d);
      expect(s).not.toBeNull();
      const out = s!.dots(q, n, SCALE);
      for (let r = 0; r < n; r++) expect(out[r]).toBe(rowDot(m, r, q, d));
    }
  });

  it('does not overflow on the largest products a unit vector allows', () => {
    const d = 192;
    // One component at full scale (the largest single product), and every component equal (the largest sum of many).
    const spike = new Float32Array(d);
    spike[5] = -1;
    const flat = new Float32Array(d).fill(1);
    const rows = new Int16Array(2 * d);
    rows.set(fixedUnit(spike), 0);
    rows.set(fixedUnit(flat), d);
    const s = SimdDots.create(rows, 2, d)!;
    const bound = similarityErrorBound(d);
    const self = s.dots(fixedUnit(spike), 2, SCALE);
    expect(self[0]).toBe(1);
    const same = s.dots(fixedUnit(flat), 2, SCALE);
    expect(Math.abs(same[1]! - 1)).toBeLessThanOrEqual(bound);
    const opposite = s.dots(fixedUnit(flat.map((x) => -x)), 2, SCALE);
    expect(Math.abs(opposite[1]! + 1)).toBeLessThanOrEqual(bound);
  });

  it('stays within the stated bound of the float similarity, and is usually far closer', () => {
    const rand = rng(9);
    for (const d of [128, 192, 512]) {
      const bound = similarityErrorBound(d);
      const q = randomUnit(d, rand);
      const n = 2000;
      const floats = Array.from({ length: n }, (_, i) => unitWithCosine(q, -0.2 + (i / n) * 1.2, rand));
      const m = new Int16Array(n * d);
      floats.forEach((f, r) => m.set(fixedUnit(f), r * d));
      const out = SimdDots.create(m, n, d)!.dots(fixedUnit(q), n, SCALE);
      let worst = 0;
      let sq = 0;
      for (let r = 0; r < n; r++) {
        let exact = 0;
        for (let i = 0; i < d; i++) exact += floats[r]![i]! * q[i]!;
        const err = Math.abs(out[r]! - exact);
        worst = Math.max(worst, err);
        sq += err * err;
      }
      expect(worst).toBeLessThanOrEqual(bound);
      // Rounding errors are random: their typical size is a few hundredths of the worst case.
      expect(Math.sqrt(sq / n)).toBeLessThan(bound / 10);
    }
  });

  it('declines sizes that are not a multiple of 8; the matcher then uses plain JS', () => {
    expect(SimdDots.create(new Int16Array(132), 1, 132)).toBeNull();
    const rand = rng(4);
    const c = randomUnit(130, rand);
    const p = { id: 'p', name: 'p', created: '', notes: '' };
    const q = { size: 1, score: 1, blur: 1, yaw: 0, pitch: 0, roll: 0 };
    const m = new Matcher(
      [p],
      [{ id: 's', personId: 'p', embedding: Float32Array.from(c), modelId: 'x', quality: q, source: 'cli', created: '', negative: false }],
      'x',
      {
        threshold: 0.5,
        margin: 0.05,
        trimFraction: 0.2,
        negativeMargin: 0,
      },
    );
    expect(m.backend).toBe('js');
    expect(Math.abs(m.match(unitWithCosine(c, 0.77, rand)).similarity - 0.77)).toBeLessThanOrEqual(similarityErrorBound(130));
  });
});
