import { describe, expect, it } from 'vitest';
import { DIR_BY_LOOKS, enrolmentStrength } from '../../src/match/enrolment-strength.js';
import { randomUnit, rng, unitWithCosine } from '../../src/match/random.js';
import type { FaceQuality } from '../../src/vision/types.js';

const rand = rng(5);
const good: FaceQuality = { size: 140, score: 0.98, blur: 180, yaw: 3, pitch: 2, roll: 0 };
const me = randomUnit(128, rand);
const photo = (cos: number, quality: FaceQuality = good) => ({ embedding: unitWithCosine(me, cos, rand), quality });

describe('enrolment strength', () => {
  it('counts different looks, not copies, and rises with them to the measured DIR', () => {
    const one = enrolmentStrength([photo(0.99)]);
    expect(one).toMatchObject({ samples: 1, looks: 1, level: 'weak' });
    expect(one.score).toBeCloseTo(DIR_BY_LOOKS[0]!, 2);
    // Five near-copies of one photo are still one look, and the hint asks for another day and light.
    const copies = enrolmentStrength(Array.from({ length: 5 }, () => photo(0.97)));
    expect(copies).toMatchObject({ samples: 5, looks: 1, level: 'weak' });
    expect(copies.hint).toMatch(/another day/);
    const three = enrolmentStrength([photo(0.7), photo(0.7), photo(0.7)]);
    expect(three.looks).toBe(3);
    expect(three.level).toBe('strong');
    expect(three.score).toBeGreaterThan(one.score);
  });

  it('asks for another angle when every look is frontal, and for a better photo when all are poor', () => {
    expect(enrolmentStrength([photo(0.99)]).hint).toMatch(/another angle/);
    const poor = enrolmentStrength([photo(0.99, { ...good, size: 40, blur: 30 })]);
    expect(poor.hint).toMatch(/sharper, closer/);
    expect(poor.score).toBeLessThan(DIR_BY_LOOKS[0]!);
  });

  it('ignores negative samples and says what to add to a person with none', () => {
    const none = enrolmentStrength([{ ...photo(0.9), negative: true }]);
    expect(none).toMatchObject({ score: 0, level: 'none', samples: 0, looks: 0 });
    expect(none.hint).toMatch(/front-facing photo/);
  });
});
