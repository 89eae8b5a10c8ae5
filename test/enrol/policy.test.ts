/** The enrolment policy's pure parts: look-alike verdicts in words, the operating point in words, the change log's bounds. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { alikeWords, judgeEnrolment, SAME_PICTURE } from '../../src/enrol/likeness.js';
import { explainPoint } from '../../src/enrol/point.js';
import { ChangeLog } from '../../src/enrol/changes.js';

describe('look-alike verdicts', () => {
  const amy = { id: 'amy', name: 'Amy' };
  it('says "not alike" for tiny and negative similarities, never "0 %"', () => {
    expect(alikeWords(-0.2)).toBe('not alike');
    expect(alikeWords(0.004)).toBe('not alike');
    expect(alikeWords(0.594)).toBe('59 % alike');
    const v = judgeEnrolment(
      amy,
      [
        { personId: 'bob', name: 'Bob', similarity: 0.8 },
        { personId: 'amy', name: 'Amy', similarity: -0.1 },
      ],
      0.5,
    );
    expect(v).toMatchObject({ kind: 'looks_like_other', match: { name: 'Bob' } });
    expect(v.kind === 'looks_like_other' && v.message).toBe(
      'This face looks more like Bob (80 % alike) than Amy (not alike). Add it anyway, or add it to Bob?',
    );
  });

  it('uses the threshold it is given, ignores ruled-out people, and calls the same picture a duplicate', () => {
    const found = [{ personId: 'bob', name: 'Bob', similarity: 0.55 }];
    expect(judgeEnrolment(amy, found, 0.594).kind).toBe('ok');
    expect(judgeEnrolment(amy, found, 0.5).kind).toBe('looks_like_other');
    expect(judgeEnrolment(amy, found, 0.5, new Set(['bob'])).kind).toBe('ok');
    expect(judgeEnrolment(amy, [{ personId: 'amy', name: 'Amy', similarity: SAME_PICTURE }], 0.5).kind).toBe('duplicate');
  });
});

describe('the operating point in words', () => {
  it('says the threshold as a percentage, for how many people, and how often a stranger is misnamed', () => {
    expect(explainPoint({ threshold: 0.594, people: 100, targetFpir: 1e-3, source: 'facebank-size' })).toBe(
      "A face gets a name when it is at least 59 % alike one person's photos (set for 100 people enrolled, so about 1 stranger in 1,000 is misnamed).",
    );
    expect(explainPoint({ threshold: 0.5, people: 1, targetFpir: null, source: 'config' })).toMatch(
      /set by match.threshold in the configuration; 1 person enrolled/,
    );
  });
});

describe('the change log', () => {
  let dir = '';
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('is bounded by count and by age, survives a reopen, and drops kept crops with the changes', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fg-changes-'));
    const log = new ChangeLog(dir, { maxCount: 3, maxAgeMs: 60_000 });
    await log.open();
    const crop = path.join(dir, 'crop.jpg');
    await writeFile(crop, 'jpeg bytes');
    await log.keepCrop('s1', crop);
    const removal = log.add('remove-sample', 'Removed a photo of Amy.', 'amy', {
      removedSample: {
        id: 's1',
        personId: 'amy',
        embedding: [1],
        modelId: 'm',
        quality: { size: 1, score: 1, blur: 1, yaw: 0, pitch: 0, roll: 0 },
        source: 'cli',
        negative: false,
      },
    });
    for (let i = 0; i < 3; i++) log.add('rename', `Rename ${i}`, 'amy', { renamedFrom: { personId: 'amy', name: `n${i}` } });
    expect(log.list().map((c) => c.summary)).toEqual(['Rename 2', 'Rename 1', 'Rename 0']);
    expect(log.get(removal.id)).toBeNull();
    log.markUndone(log.list()[0]!.id);
    await log.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(await readdir(path.join(dir, 'undo'))).toEqual([]);

    const again = new ChangeLog(dir, { maxCount: 3, maxAgeMs: 60_000 });
    await again.open();
    expect(again.list().map((c) => [c.summary, Boolean(c.undone)])).toEqual([
      ['Rename 2', true],
      ['Rename 1', false],
      ['Rename 0', false],
    ]);
    await again.close();
    const old = new ChangeLog(dir, { maxCount: 3, maxAgeMs: 0 });
    await old.open();
    await new Promise((r) => setTimeout(r, 5));
    expect(old.list()).toEqual([]);
    await old.close();
  });
});
