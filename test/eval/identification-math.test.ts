import { describe, expect, it } from 'vitest';
import { identification, thresholdAtFpir, type ProbeOutcome } from '../../src/eval/identification.js';

const mated = (similarity: number, right = true, nameable = true): ProbeOutcome => ({ mated: true, right, similarity, nameable });
const non = (similarity: number, nameable = true): ProbeOutcome => ({ mated: false, right: false, similarity, nameable });

describe('open-set identification maths', () => {
  it('puts the threshold just above the (k+1)-th highest nameable non-mated similarity', () => {
    const n = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0].map((s) => non(s));
    // FPIR 0.1 of 10: one false name allowed → just above 0.8.
    expect(thresholdAtFpir(n, 0.1)).toBeGreaterThan(0.8);
    expect(thresholdAtFpir(n, 0.1)).toBeLessThan(0.8001);
    // FPIR 0.01 of 10: none allowed → above the highest.
    expect(thresholdAtFpir(n, 0.01)).toBeGreaterThan(0.9);
    // Probes the margin rule stops are never named, whatever the threshold.
    const held = [non(0.95, false), ...n.slice(1)];
    expect(thresholdAtFpir(held, 0.01)).toBeGreaterThan(0.8);
    expect(thresholdAtFpir(held, 0.01)).toBeLessThan(0.8001);
    // Fewer nameable probes than allowed false names: any threshold will do.
    expect(thresholdAtFpir([non(0.9, false)], 0.5)).toBe(-1);
  });

  it('computes rank-1, and DIR and the measured FPIR at each target', () => {
    const probes = [
      mated(0.9),
      mated(0.7),
      mated(0.6, false), // wrong person ranked first: never counts for DIR
      mated(0.85, true, false), // right person, but the margin rule holds the name back
      non(0.75),
      non(0.65),
      non(0.2),
      non(0.1),
    ];
    const r = identification(probes, [0.25, 0.5]);
    expect(r).toMatchObject({ mated: 4, nonMated: 4 });
    expect(r.rank1).toBe(0.75);
    // FPIR 0.25 of 4: one false name → threshold just above 0.65; mated named right: 0.9, 0.7.
    expect(r.points[0]).toMatchObject({ fpir: 0.25, measuredFpir: 0.25, dir: 0.5 });
    expect(r.points[0]!.threshold).toBeCloseTo(0.65, 5);
    // FPIR 0.5: two allowed → above 0.2; still 0.9 and 0.7 named right; the two highest non-mated named.
    expect(r.points[1]).toMatchObject({ measuredFpir: 0.5, dir: 0.5 });
    // Held out: even-numbered strangers (0.75, 0.2) choose the threshold, odd-numbered ones (0.65, 0.1) are
    // measured: at FPIR 0.5 of 2, one may pass → just above 0.2 → 0.65 is named: 1 of 2.
    expect(r.points[1]!.heldOutFpir).toBe(0.5);
    expect(r.points[0]!.heldOutFpir).toBe(0); // none allowed → above 0.75
    expect(r.at).toBeUndefined();
    // At a given threshold (the shipped rule's).
    expect(identification(probes, [0.25], 0.68).at).toEqual({ threshold: 0.68, fpir: 0.25, dir: 0.5 });
  });
});
