/**
 * The matcher follows the facebank change by change: after any sequence of people and samples added, renamed and
 * removed it answers as a matcher built afresh, and the live matcher keeps one index up to date from the real
 * facebank's changes (rebuilding only when it could not follow one).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Matcher, type MatcherOptions } from '../../src/match/matcher.js';
import { cosine } from '../../src/match/cosine.js';
import { similarityErrorBound } from '../../src/match/rows.js';
import { LiveMatcher } from '../../src/match/live.js';
import { randomUnit, rng, unitWithCosine } from '../../src/match/random.js';
import { matchSchema } from '../../src/config/schema.js';
import { Bus } from '../../src/events/bus.js';
import { Facebank } from '../../src/store/facebank.js';
import type { OperatingPoint } from '../../src/match/operating-point.js';
import type { Person, Sample } from '../../src/store/types.js';

const quality = { size: 112, score: 1, blur: 100, yaw: 0, pitch: 0, roll: 0 };
const opts: MatcherOptions = { threshold: 0.3, margin: 0.05, trimFraction: 0.2, negativeMargin: 0, centroids: true };

/** What a user sees of a match, for comparing two matchers. */
function seen(m: Matcher, q: Float32Array) {
  const r = m.match(q);
  return {
    person: r.person?.name ?? null,
    reason: r.reason,
    candidate: r.candidate?.person.name ?? null,
    second: r.secondBest?.person.name ?? null,
    similarity: Number(r.similarity.toFixed(4)),
    score: Number(r.score.toFixed(4)),
  };
}

describe('Matcher following changes', () => {
  for (const dim of [8, 6]) {
    it(`answers as a matcher built afresh after every change (${dim} values: ${dim % 8 ? 'plain JS' : 'SIMD'} rows)`, () => {
      const rand = rng(dim);
      const people = new Map<string, Person>();
      const samples = new Map<string, Sample>();
      const centres = new Map<string, Float32Array>();
      let next = 0;
      const m = new Matcher([], [], 'm1', opts);
      const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
      for (let step = 0; step < 400; step++) {
        const roll = rand();
        const ids = [...people.keys()];
        const pid = pick(ids);
        if (roll < 0.12 || !pid) {
          const p = { id: `p${next++}`, name: `Person ${next}`, created: '', notes: '' };
          people.set(p.id, p);
          centres.set(p.id, randomUnit(dim, rand));
          m.putPerson(p);
        } else if (roll < 0.18) {
          const p = { ...people.get(pid)!, name: `Renamed ${step}` };
          people.set(pid, p);
          m.putPerson(p);
        } else if (roll < 0.24) {
          people.delete(pid);
          for (const s of [...samples.values()]) if (s.personId === pid) samples.delete(s.id);
          m.removePerson(pid);
        } else if (roll < 0.4 && samples.size) {
          const s = pick([...samples.values()])!;
          samples.delete(s.id);
          m.removeSample(s.id);
        } else {
          const s: Sample = {
            id: `s${next++}`,
            personId: pid,
            embedding: unitWithCosine(centres.get(pid)!, 0.5 + rand() * 0.4, rand),
            modelId: rand() < 0.05 ? 'other-model' : 'm1',
            quality,
            source: 'cli',
            created: '',
            negative: rand() < 0.1,
          };
          samples.set(s.id, s);
          m.addSample(s);
        }
        const fresh = new Matcher([...people.values()], [...samples.values()], 'm1', opts);
        expect(m.size).toBe(fresh.size);
        expect(m.peopleCount).toBe(fresh.peopleCount);
        const someone = pick([...people.keys()]);
        const q = someone && rand() < 0.7 ? unitWithCosine(centres.get(someone)!, 0.6, rand) : randomUnit(dim, rand);
        if (!fresh.size) {
          expect(m.match(q).reason).toBe('empty');
          continue;
        }
        expect(seen(m, q)).toEqual(seen(fresh, q));
        if (someone) expect(m.similarityTo(q, someone)).toBeCloseTo(fresh.similarityTo(q, someone), 5);
        for (const negative of [false, true]) {
          const a = m.resemblances(q, { negative, top: 3, also: someone ? [someone] : [] });
          const b = fresh.resemblances(q, { negative, top: 3, also: someone ? [someone] : [] });
          expect(a.map((r) => [r.person.name, r.similarity.toFixed(4)])).toEqual(b.map((r) => [r.person.name, r.similarity.toFixed(4)]));
        }
      }
    });
  }

  it("gives each person's best similarity over their own samples (not their centroid), positive or negative", () => {
    const rand = rng(5);
    const dim = 16;
    const people = ['amy', 'bob', 'cat', 'dan'].map((n) => ({ id: n, name: n, created: '', notes: '' }));
    const samples: Sample[] = people.flatMap((p, i) =>
      Array.from({ length: 2 + i }, (_, k) => ({
        id: `${p.id}${k}`,
        personId: p.id,
        embedding: randomUnit(dim, rand),
        modelId: 'm1',
        quality,
        source: 'cli' as const,
        created: '',
        negative: k === 0 && i % 2 === 1,
      })),
    );
    const m = new Matcher(people, samples, 'm1', opts);
    const q = randomUnit(dim, rand);
    for (const negative of [false, true]) {
      const want = people
        .map((p) => ({
          name: p.id,
          best: Math.max(...samples.filter((s) => s.personId === p.id && s.negative === negative).map((s) => cosine(q, s.embedding))),
        }))
        .filter((x) => x.best > -Infinity)
        .sort((a, b) => b.best - a.best);
      const got = m.resemblances(q, { negative, top: 10 });
      expect(got.map((r) => r.person.name)).toEqual(want.map((w) => w.name));
      // The index's rows are int16 fixed point: within the rounding bound of the float similarity.
      got.forEach((r, i) => expect(Math.abs(r.similarity - want[i]!.best)).toBeLessThanOrEqual(similarityErrorBound(dim)));
      // top 1, and a person asked for by id comes along.
      const last = want.at(-1)!.name;
      expect(m.resemblances(q, { negative, top: 1, also: [last] }).map((r) => r.person.name)).toEqual(
        want.length > 1 ? [want[0]!.name, last] : [want[0]!.name],
      );
    }
    expect(m.resemblances(new Float32Array(5).fill(1), { top: 3 })).toEqual([]);
  });
});

describe('LiveMatcher over the facebank', () => {
  let dir = '';
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const crop = () => ({ width: 16, height: 16, data: new Uint8Array(16 * 16 * 3).map((_, i) => (i * 37) % 251) });

  it('keeps one index up to date change by change, with the threshold for the people enrolled; rebuilds only when it must', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fg-live-'));
    const bus = new Bus();
    const points: OperatingPoint[] = [];
    bus.on('operatingPoint', (p) => void points.push(p));
    const fb = new Facebank(dir, { bus });
    await fb.open();
    const rand = rng(11);
    const face = new Map<string, Float32Array>();
    const enrol = async (name: string) => {
      const p = await fb.createPerson(name);
      face.set(p.id, randomUnit(192, rand));
      for (let k = 0; k < 3; k++)
        await fb.addSample(p.id, { embedding: unitWithCosine(face.get(p.id)!, 0.8, rand), modelId: 'm1', quality, source: 'cli', crop: crop() });
      return p;
    };
    const amy = await enrol('Amy');
    await enrol('Bob');
    const live = new LiveMatcher(fb, bus, 'm1', matchSchema.parse({}), 0.4);
    const m = await live.current();
    expect(live.operatingPoint?.people).toBe(2);

    // A new person is named at once, by the same index (no rebuild), at the threshold for three people.
    const cat = await enrol('Cat');
    expect(await live.current()).toBe(m);
    expect(m.match(unitWithCosine(face.get(cat.id)!, 0.9, rand)).person?.name).toBe('Cat');
    expect(live.operatingPoint?.people).toBe(3);
    expect(m.options.threshold).toBe(live.operatingPoint!.threshold);
    expect(points.map((p) => p.people)).toEqual([2, 3]);

    // A rename shows in the next match; a removed sample and a removed person are gone from it.
    await fb.renamePerson(amy.id, 'Amy Farrah Fowler');
    expect(m.match(unitWithCosine(face.get(amy.id)!, 0.9, rand)).person?.name).toBe('Amy Farrah Fowler');
    const [first] = await fb.samples(cat.id);
    await fb.deleteSample(first!.id);
    expect(m.size).toBe(2 * 4 + 3);
    await fb.deletePerson(cat.id);
    expect(await live.current()).toBe(m);
    expect(m.match(unitWithCosine(face.get(cat.id)!, 0.9, rand)).person).toBeNull();
    expect(m.size).toBe(2 * 4);
    expect(live.operatingPoint?.people).toBe(2);

    // A batch from another appliance is not followed row by row: the index is rebuilt with it.
    const remote: Sample = {
      id: 'remote-1',
      personId: amy.id,
      embedding: randomUnit(192, rand),
      modelId: 'm1',
      quality,
      source: 'cli',
      created: new Date().toISOString(),
      negative: false,
    };
    const sharp = (await import('sharp')).default;
    const jpeg = await sharp(Buffer.from(crop().data), { raw: { width: 16, height: 16, channels: 3 } })
      .jpeg()
      .toBuffer();
    await fb.applyBatch([{ op: 'sample', sample: remote, jpeg }]);
    const rebuilt = await live.current();
    expect(rebuilt).not.toBe(m);
    expect(rebuilt.match(remote.embedding).person?.name).toBe('Amy Farrah Fowler');
    live.close();

    // A change it did not hear of (another bus) is seen by the facebank's seq: rebuilt, not stale.
    const deaf = new LiveMatcher(fb, new Bus(), 'm1', matchSchema.parse({}), 0.4);
    const before = await deaf.current();
    const dan = await enrol('Dan');
    const after = await deaf.current();
    expect(after).not.toBe(before);
    expect(after.match(unitWithCosine(face.get(dan.id)!, 0.9, rand)).person?.name).toBe('Dan');
    deaf.close();
    await fb.close();
  });
});
