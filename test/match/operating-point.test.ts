import { afterEach, describe, expect, it } from 'vitest';
import { IDENTIFICATION_RULES, identificationThreshold, MEASURED_THRESHOLDS } from '../../src/match/thresholds.js';
import { enrolledPeople, operatingPoint, trackThresholdFor } from '../../src/match/operating-point.js';
import { LiveMatcher } from '../../src/match/live.js';
import { matchSchema } from '../../src/config/schema.js';
import { Bus } from '../../src/events/bus.js';
import type { OperatingPoint } from '../../src/match/operating-point.js';
import type { Person, Sample } from '../../src/store/types.js';

const rule = {
  sizes: [10, 100, 1000],
  fpirs: [1e-1, 1e-2, 1e-3],
  thresholds: [
    [0.3, 0.35, 0.4],
    [0.4, 0.45, 0.5],
    [0.5, 0.55, 0.6],
  ],
};

describe('threshold by facebank size', () => {
  afterEach(() => void delete IDENTIFICATION_RULES['toy']);

  it('interpolates the rule in log N and log FPIR, stricter below the smallest size, extended beyond the largest', () => {
    IDENTIFICATION_RULES['toy'] = rule;
    expect(identificationThreshold('toy', 100, 1e-2)).toBeCloseTo(0.45);
    expect(identificationThreshold('toy', Math.round(10 ** 2.5), 1e-3)).toBeCloseTo(0.575, 3);
    expect(identificationThreshold('toy', 100, 10 ** -2.5)).toBeCloseTo(0.5);
    expect(identificationThreshold('toy', 1, 1e-3)).toBeCloseTo(0.5); // fewer than 10 people: the 10-person figure
    expect(identificationThreshold('toy', 10000, 1e-3)).toBeCloseTo(0.65);
    expect(identificationThreshold('toy', 100, 1e-4)).toBeCloseTo(0.65);
    expect(identificationThreshold('toy', 100, 0.5)).toBeCloseTo(0.35); // looser targets than measured: the loosest measured
    expect(identificationThreshold('unknown-model', 100, 1e-3)).toBeNull();
    expect(identificationThreshold('toy@1a2b3c', 100, 1e-2)).toBeCloseTo(0.45); // engines' ids carry the file hash
  });

  it('match.threshold overrides; a model without a rule keeps its 1:1 threshold', () => {
    IDENTIFICATION_RULES['toy'] = rule;
    expect(operatingPoint({ targetFpir: 1e-2 }, 'toy', 0.3, 100)).toEqual({
      threshold: expect.closeTo(0.45),
      people: 100,
      targetFpir: 1e-2,
      source: 'facebank-size',
      trackThresholds: [expect.closeTo(0.45)],
      extrapolated: false,
      largestMeasured: 1000,
      rule: 'toy',
    });
    expect(operatingPoint({ threshold: 0.7, targetFpir: 1e-2 }, 'toy', 0.3, 100)).toMatchObject({
      threshold: 0.7,
      people: 100,
      targetFpir: null,
      source: 'config',
    });
    expect(operatingPoint({ targetFpir: 1e-3 }, 'other', 0.33, 100)).toMatchObject({
      threshold: 0.33,
      people: 100,
      targetFpir: null,
      source: 'one-to-one',
      rule: null,
    });
  });

  it('a detector + embedder pair has its own rule, with per-track thresholds, and says when it is extrapolated', () => {
    IDENTIFICATION_RULES['toy'] = rule;
    IDENTIFICATION_RULES['det-x+toy'] = {
      ...rule,
      thresholds: rule.thresholds.map((r) => r.map((t) => t + 0.1)),
      tracks: [rule.thresholds.map((r) => r.map((t) => t + 0.1)), rule.thresholds],
    };
    try {
      // The engine's ids ("kind:model@hash", "model@hash") find the pair's rule; another detector falls back to the embedder's.
      const pair = operatingPoint({ targetFpir: 1e-2 }, 'toy@1a2b', 0.3, 100, 'yunet:det-x@9f9f');
      expect(pair).toMatchObject({ threshold: expect.closeTo(0.55), rule: 'det-x+toy', extrapolated: false, largestMeasured: 1000 });
      expect(pair.trackThresholds).toEqual([expect.closeTo(0.55), expect.closeTo(0.45)]);
      expect(trackThresholdFor(pair, 1)).toBeCloseTo(0.55);
      expect(trackThresholdFor(pair, 5)).toBeCloseTo(0.45); // more key faces than measured: the last table
      expect(operatingPoint({ targetFpir: 1e-2 }, 'toy', 0.3, 100, 'mtcnn@abc')).toMatchObject({ threshold: expect.closeTo(0.45), rule: 'toy' });
      // Past the largest size measured the point says so.
      expect(operatingPoint({ targetFpir: 1e-2 }, 'toy', 0.3, 4000, 'yunet:det-x@9f9f')).toMatchObject({ extrapolated: true, largestMeasured: 1000 });
    } finally {
      delete IDENTIFICATION_RULES['det-x+toy'];
    }
  });

  it('below the smallest measured size the threshold runs from the 1:1 threshold at one person, in log N', () => {
    IDENTIFICATION_RULES['toy'] = rule;
    const at = (n: number, target = 1e-3, oneToOne = 0.44) => operatingPoint({ targetFpir: target }, 'toy', oneToOne, n).threshold;
    expect(at(1)).toBeCloseTo(0.44);
    expect(at(0)).toBeCloseTo(0.44);
    expect(at(Math.round(10 ** 0.5))).toBeCloseTo(0.44 + 0.06 * Math.log10(3), 2);
    expect(at(10)).toBeCloseTo(0.5);
    for (let n = 1; n < 10; n++) expect(at(n + 1)).toBeGreaterThanOrEqual(at(n));
    // A stricter target than the 1:1 threshold's FAR keeps the smallest size's figure (the 1:1 point is too loose).
    expect(at(1, 1e-4)).toBeCloseTo(identificationThreshold('toy', 10, 1e-4)!);
    // A 1:1 threshold already stricter than the rule's is not loosened.
    expect(at(1, 1e-3, 0.7)).toBeCloseTo(0.5);
  });

  it('the shipped MobileFaceNet rule rises with the facebank and holds FPIR 1e-3 above the 1:1 threshold', () => {
    const t = [10, 100, 1000, 5000].map((n) => identificationThreshold('mobilefacenet', n, 1e-3)!);
    for (let i = 1; i < t.length; i++) expect(t[i]).toBeGreaterThanOrEqual(t[i - 1]!);
    expect(t[0]).toBeGreaterThanOrEqual(MEASURED_THRESHOLDS['mobilefacenet']!);
    expect(t[3]).toBeLessThan(1);
  });

  it('the live matcher picks the threshold for the people enrolled and announces it', async () => {
    IDENTIFICATION_RULES['toy'] = rule;
    const bus = new Bus();
    const points: OperatingPoint[] = [];
    bus.on('operatingPoint', (p) => points.push(p));
    const people: Person[] = [];
    const samples: Sample[] = [];
    const add = (n: number) => {
      for (let i = 0; i < n; i++) {
        const id = `p${people.length}`;
        people.push({ id, name: id, created: '', notes: '' });
        samples.push({
          id: `s${id}`,
          personId: id,
          embedding: Float32Array.of(1, people.length),
          modelId: 'toy',
          quality: { size: 0, score: 0, blur: 0, yaw: 0, pitch: 0, roll: 0 },
          source: 'cli',
          created: '',
          negative: false,
        });
      }
    };
    add(10);
    const live = new LiveMatcher({ people: async () => people, samples: async () => samples }, bus, 'toy', matchSchema.parse({ targetFpir: 1e-2 }), 0.3);
    expect((await live.current()).options.threshold).toBeCloseTo(0.4);
    add(90);
    bus.emit('facebankChanged', { seq: 0, time: new Date().toISOString(), op: 'replace' });
    expect((await live.current()).options.threshold).toBeCloseTo(0.45);
    expect(points.map((p) => [p.people, Number(p.threshold.toFixed(3))])).toEqual([
      [10, 0.4],
      [100, 0.45],
    ]);
    expect(enrolledPeople([...samples, { ...samples[0]!, personId: 'neg', negative: true }], 'toy')).toBe(100);
    live.close();
  });
});
