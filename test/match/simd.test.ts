import { describe, expect, it } from 'vitest';
import { SimdDots } from '../../src/match/simd.js';
import { Matcher } from '../../src/match/matcher.js';
import { randomUnit, rng, unitWithCosine } from '../../src/match/random.js';

describe('SimdDots', () => {
  it('computes every row product like a plain loop', () => {
    const rand = rng(3);
    for (const [n, d] of [
      [1, 4],
      [7, 192],
      [300, 512],
    ] as const) {
      const m = new Float32Array(n * d).map(() => rand() - 0.5);
      const q = new Float32Array(d).map(() => rand() - 0.5);
      const s = SimdDots.create(m, n, d);
      expect(s).not.toBeNull();
      const out = s!.dots(q);
      for (let r = 0; r < n; r++) {
        let a = 0;
        for (let i = 0; i < d; i++) a += m[r * d + i]! * q[i]!;
        expect(out[r]).toBeCloseTo(a, 4);
      }
    }
  });

  it('declines sizes that are not a multiple of 4; the matcher then uses plain JS', () => {
    expect(SimdDots.create(new Float32Array(130), 1, 130)).toBeNull();
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
    expect(m.match(unitWithCosine(c, 0.77, rand)).similarity).toBeCloseTo(0.77, 5);
  });
});
