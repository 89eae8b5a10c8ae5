import { describe, expect, it } from 'vitest';
import { bestThreshold, cosine, kFoldAccuracy, lfwImagePath, parsePairs, tarAtFar } from '../../src/eval/lfw.js';
import { mergeSamePerson } from '../../src/eval/lfw-aliases.js';

describe('parsePairs', () => {
  it('reads folds of same and different pairs', () => {
    const folds = parsePairs('2 1\nAnn 1 2\nBob 1 Cy 3\nDee 4 10\nEd 2 Flo 1\n');
    expect(folds).toHaveLength(2);
    expect(folds[0]![0]).toEqual({ a: 'lfw-deepfunneled/Ann/Ann_0001.jpg', b: 'lfw-deepfunneled/Ann/Ann_0002.jpg', same: true });
    expect(folds[0]![1]).toEqual({ a: 'lfw-deepfunneled/Bob/Bob_0001.jpg', b: 'lfw-deepfunneled/Cy/Cy_0003.jpg', same: false });
    expect(folds[1]![0]!.b).toBe('lfw-deepfunneled/Dee/Dee_0010.jpg');
    expect(lfwImagePath('X_Y', 123)).toBe('lfw-deepfunneled/X_Y/X_Y_0123.jpg');
  });
  it('rejects a wrong header or line count', () => {
    expect(() => parsePairs('x\n')).toThrow(/folds/);
    expect(() => parsePairs('1 2\nAnn 1 2\n')).toThrow(/holds 1 lines/);
    expect(() => parsePairs('1 1\nAnn 1\nB 1 C 2\n')).toThrow(/line 2/);
  });
});

describe('bestThreshold', () => {
  it('separates perfectly separable scores between the classes', () => {
    const r = bestThreshold([0.1, 0.2, 0.8, 0.9], [false, false, true, true]);
    expect(r.accuracy).toBe(1);
    expect(r.threshold).toBeCloseTo(0.5);
  });
  it('finds the best cut with one unavoidable error', () => {
    // sorted: .1F .3T .4F .45F .6T .7T → the cut between .45 and .6 gives 5/6 (between .1 and .3 only 4/6)
    const r = bestThreshold([0.6, 0.1, 0.4, 0.45, 0.3, 0.7], [true, false, false, false, true, true]);
    expect(r.accuracy).toBeCloseTo(5 / 6);
    expect(r.threshold).toBeCloseTo(0.525);
  });
  it('never splits tied scores', () => {
    const r = bestThreshold([0.5, 0.5, 0.9], [false, true, true]);
    expect(r.threshold).not.toBe(0.5);
    expect(r.accuracy).toBeCloseTo(2 / 3);
  });
});

describe('kFoldAccuracy', () => {
  it('chooses each fold threshold on the other folds', () => {
    // Held-out fold 2 gets the cut (0.3 + 0.75) / 2 from folds 0 and 1, which misclassifies its 0.6.
    const scores = [
      [0.2, 0.8],
      [0.3, 0.75],
      [0.6, 0.9],
    ];
    const same = [
      [false, true],
      [false, true],
      [false, true],
    ];
    const r = kFoldAccuracy(scores, same);
    expect(r.foldAccuracies[0]).toBe(1);
    expect(r.foldAccuracies[1]).toBe(1);
    expect(r.foldAccuracies[2]).toBe(0.5);
    expect(r.thresholds[2]).toBeCloseTo(0.525);
    expect(r.accuracy).toBeCloseTo(2.5 / 3);
    expect(r.std).toBeCloseTo(Math.sqrt((2 * (1 / 6) ** 2 + (1 / 3) ** 2) / 3));
  });
});

describe('tarAtFar', () => {
  it('puts the threshold at the (k+1)-th highest impostor score', () => {
    const neg = Array.from({ length: 1000 }, (_, i) => i / 1000); // 0 .. 0.999
    const pos = [0.9985, 0.9995, 0.5, 0.2];
    const scores = [...neg, ...pos];
    const same = [...neg.map(() => false), ...pos.map(() => true)];
    const r = tarAtFar(scores, same, 1e-3); // k = 1 → threshold = 2nd highest = 0.998
    expect(r.threshold).toBeCloseTo(0.998);
    expect(r.far).toBeCloseTo(0.001);
    expect(r.tar).toBe(0.5);
  });
  it('cosine of equal, opposite and orthogonal vectors', () => {
    expect(cosine([1, 2], [2, 4])).toBeCloseTo(1);
    expect(cosine([1, 0], [-3, 0])).toBeCloseTo(-1);
    expect(cosine([1, 0], [0, 5])).toBeCloseTo(0);
  });
});

describe('mergeSamePerson', () => {
  it("files LFW's second name of one person under the first, so they are never each other's strangers", () => {
    const listed: [string, string[]][] = [
      ['Hasan_Wirayuda', ['h/1.jpg']],
      ['Hassan_Wirajuda', ['hh/1.jpg', 'hh/2.jpg']],
      ['Isabela_Moraes', ['i/1.jpg']],
      ['Carolina_Moraes', ['c/1.jpg']],
      ['Sepp_Blatter', ['s/1.jpg']],
    ];
    const { merged, pairs } = mergeSamePerson(listed);
    expect(pairs).toBe(1); // Joseph_Blatter is not in the list: Sepp_Blatter stays as he is
    expect(merged).toEqual([
      ['Hassan_Wirajuda', ['hh/1.jpg', 'hh/2.jpg', 'h/1.jpg']],
      ['Isabela_Moraes', ['i/1.jpg']], // twins are two people
      ['Carolina_Moraes', ['c/1.jpg']],
      ['Sepp_Blatter', ['s/1.jpg']],
    ]);
  });
});
