/** A site's own open-set rules (config match.rules): a bring-your-own embedder gets a threshold that follows N. */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema, matchSchema } from '../../src/config/schema.js';
import { formatIssues } from '../../src/config/issues.js';
import { operatingPoint } from '../../src/match/operating-point.js';
import { ruleFor, siteRuleKey } from '../../src/match/thresholds.js';
import { siteRuleSnippet } from '../../src/eval/run-identification.js';

const rule = {
  sizes: [10, 100, 1000],
  fpirs: [1e-1, 1e-2, 1e-3],
  thresholds: [
    [0.2, 0.25, 0.3],
    [0.3, 0.35, 0.4],
    [0.4, 0.45, 0.5],
  ],
  tracks: [
    [
      [0.2, 0.25, 0.3],
      [0.3, 0.35, 0.4],
      [0.4, 0.45, 0.5],
    ],
    [
      [0.15, 0.2, 0.25],
      [0.25, 0.3, 0.35],
      [0.35, 0.4, 0.45],
    ],
  ],
};
const EMBEDDER = 'w600k_r50@1a2b3c4d5e6f';
const DETECTOR = 'yunet:yunet-n@104ee26c71d5+onet';
const KEY = 'yunet-n+onet+w600k_r50@1a2b3c4d5e6f';

describe("a site's own open-set rule", () => {
  it('is keyed by the detector model and the embedder file, hash included', () => {
    expect(siteRuleKey(EMBEDDER, DETECTOR)).toBe(KEY);
  });

  it('turns a bring-your-own embedder from one fixed threshold into one that rises with the facebank', () => {
    const match = matchSchema.parse({ rules: { [KEY]: rule } });
    // Without the rule the model has only its 1:1 threshold, whatever N.
    expect(operatingPoint({ targetFpir: 1e-3 }, EMBEDDER, 0.35, 1000, DETECTOR)).toMatchObject({ threshold: 0.35, source: 'one-to-one', rule: null });
    const small = operatingPoint(match, EMBEDDER, 0.35, 100, DETECTOR);
    const large = operatingPoint(match, EMBEDDER, 0.35, 1000, DETECTOR);
    expect(small).toMatchObject({ threshold: 0.45, source: 'facebank-size', rule: KEY, targetFpir: 1e-3, largestMeasured: 1000, extrapolated: false });
    expect(large.threshold).toBe(0.5);
    expect(large.trackThresholds).toEqual([0.5, 0.45]);
    expect(operatingPoint(match, EMBEDDER, 0.35, 5000, DETECTOR)).toMatchObject({ extrapolated: true, largestMeasured: 1000 });
  });

  it('is ignored for another file of the same name, another detector, or an id without a hash', () => {
    const match = matchSchema.parse({ rules: { [KEY]: rule } });
    expect(operatingPoint(match, 'w600k_r50@ffffffffffff', 0.35, 1000, DETECTOR)).toMatchObject({ source: 'one-to-one', rule: null });
    expect(operatingPoint(match, EMBEDDER, 0.35, 1000, 'mtcnn@abc')).toMatchObject({ source: 'one-to-one', rule: null });
    expect(ruleFor('w600k_r50', DETECTOR, match.rules)).toBeNull();
  });

  it('comes before the built-in rule of the same pair', () => {
    const own = { ...rule, thresholds: rule.thresholds.map((r) => r.map((t) => t + 0.2)), tracks: undefined };
    const key = siteRuleKey('mobilefacenet@aceee5f2a75f', DETECTOR);
    expect(ruleFor('mobilefacenet@aceee5f2a75f', DETECTOR)?.key).toBe('yunet-n+onet+mobilefacenet');
    expect(ruleFor('mobilefacenet@aceee5f2a75f', DETECTOR, { [key]: own })).toEqual({ key, rule: own });
    expect(operatingPoint({ targetFpir: 1e-3, rules: { [key]: own } }, 'mobilefacenet@aceee5f2a75f', 0.44, 1000, DETECTOR).threshold).toBe(0.7);
  });

  it('is what `facegate eval identification` prints, pasted into a config file as it is', () => {
    const yaml = siteRuleSnippet({ siteKey: KEY, fitted: rule });
    const config = configSchema.parse(parse(yaml));
    expect(config.match.rules[KEY]).toEqual(rule);
    expect(config.match.targetFpir).toBe(1e-3); // the rest of match keeps its defaults
  });

  it('a mistyped rule is refused with where and why', () => {
    const bad = (rules: unknown) => {
      const r = matchSchema.safeParse({ rules });
      expect(r.success).toBe(false);
      return r.success ? '' : formatIssues(r.error.issues).join('\n');
    };
    expect(bad({ 'yunet-n+onet+w600k_r50': rule })).toMatch(/<detector>\+<embedder>@<12 hex digits>/);
    expect(bad({ [KEY]: { ...rule, sizes: [100, 10, 1000] } })).toMatch(/^rules\.yunet-n\+onet\+w600k_r50@1a2b3c4d5e6f\.sizes\[1\]: sizes must rise$/);
    expect(bad({ [KEY]: { ...rule, thresholds: rule.thresholds.slice(1) } })).toMatch(/\.thresholds: needs one row per fpir \(3\), has 2$/);
    expect(bad({ [KEY]: { ...rule, tracks: [[[0.1, 0.2]], ...rule.tracks] } })).toMatch(/\.tracks\[0\]: needs one row per fpir \(3\), has 1$/);
    expect(bad({ [KEY]: { ...rule, thresholds: [[0.2, 0.25, 1.3], ...rule.thresholds.slice(1)] } })).toMatch(/\.thresholds\[0\]\[2\]: /);
  });
});
