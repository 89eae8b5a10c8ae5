import { describe, expect, it } from 'vitest';
import { Tracker, qualityWeight, type TrackInput } from '../../src/track/tracker.js';
import type { MatchResult } from '../../src/match/matcher.js';
import { trackSchema, type TrackConfig } from '../../src/config/schema.js';
import type { Box, FaceQuality, RgbImage } from '../../src/vision/types.js';
import { iou, centreDistance } from '../../src/track/geometry.js';
import { frameSignature, signatureDistance } from '../../src/track/scene.js';
import { randomUnit, rng, unitWithCosine } from '../../src/match/random.js';

const cfg = (o: Partial<TrackConfig> = {}): TrackConfig => trackSchema.parse({ iou: 0.3, confirmFrames: 3, unknownFrames: 5, endAfterSeconds: 2, ...o });
const good: FaceQuality = { size: 120, score: 1, blur: 150, yaw: 0, pitch: 0, roll: 0 };
const alice = { id: 'a', name: 'alice' };
const bob = { id: 'b', name: 'bob' };

const hit = (person: { id: string; name: string } | null, similarity = 0.7): MatchResult => ({
  person,
  similarity,
  score: similarity,
  candidate: null,
  secondBest: null,
  reason: person ? 'match' : 'below-threshold',
  threshold: 0.45,
});
let tag = 0;
const face = (box: Box, match: MatchResult, quality: FaceQuality = good): TrackInput => ({
  box,
  quality,
  match,
  face: { aligned: { width: 1, height: 1, data: new Uint8Array([tag++ % 256, 0, 0]) }, embedding: new Float32Array([tag]) },
});
const B: Box = [100, 100, 220, 240];
const shift = (b: Box, dx: number): Box => [b[0] + dx, b[1], b[2] + dx, b[3]];

describe('geometry', () => {
  it('computes IoU and centre distance', () => {
    expect(iou([0, 0, 10, 10], [5, 0, 15, 10])).toBeCloseTo(50 / 150);
    expect(iou([0, 0, 10, 10], [20, 20, 30, 30])).toBe(0);
    expect(centreDistance([0, 0, 10, 10], [6, 8, 16, 18])).toBeCloseTo(1);
  });
});

describe('qualityWeight', () => {
  it('multiplies score, size, sharpness and frontalness', () => {
    expect(qualityWeight(good)).toBeCloseTo(1);
    expect(qualityWeight({ ...good, size: 56 })).toBeCloseTo(0.5);
    expect(qualityWeight({ ...good, blur: 25, score: 0.8 })).toBeCloseTo(0.2);
    expect(qualityWeight({ ...good, yaw: 60 })).toBeCloseTo(0.5);
    expect(qualityWeight({ ...good, blur: 0 })).toBeGreaterThan(0);
  });
});

describe('Tracker', () => {
  it('follows moving faces by IoU and centre distance, with ids <camera>-<n>', () => {
    const t = new Tracker('door', cfg());
    const u1 = t.update(0, [face(B, hit(null)), face([400, 100, 520, 240], hit(null))]);
    expect(u1.tracks).toEqual(['door-1', 'door-2']);
    // Both move 40 px (IoU ≈ 0.5): same tracks; order of inputs does not matter.
    const u2 = t.update(200, [face([440, 100, 560, 240], hit(null)), face(shift(B, 40), hit(null))]);
    expect(u2.tracks).toEqual(['door-2', 'door-1']);
    // A jump of 100 px (IoU 0.09 < 0.3) still joins by centre distance; a far face starts a new track.
    const u3 = t.update(400, [face(shift(B, 140), hit(null)), face([0, 400, 60, 470], hit(null))]);
    expect(u3.tracks[0]).toBe('door-1');
    expect(u3.tracks[1]).toBe('door-3');
  });

  it('names a person after confirmFrames agreeing frames, once', () => {
    const t = new Tracker('cam', cfg());
    expect(t.update(0, [face(B, hit(alice, 0.6))]).decisions).toEqual([]);
    expect(t.update(200, [face(B, hit(alice, 0.62))]).decisions).toEqual([]);
    const d = t.update(400, [face(B, hit(alice, 0.61))]).decisions;
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ type: 'new', track: 'cam-1', camera: 'cam', person: alice, time: 400 });
    expect(d[0]!.similarity).toBeCloseTo(0.62);
    expect(d[0]!.confidence).toBeCloseTo(1);
    expect(t.update(600, [face(B, hit(alice, 0.6))]).decisions).toEqual([]);
    expect(t.update(600, [face(B, hit(alice, 0.6))]).names).toEqual(['alice']);
  });

  it('declares unknown after unknownFrames frames without a confident match', () => {
    const t = new Tracker('cam', cfg({ unknownFrames: 4 }));
    for (let i = 0; i < 3; i++) expect(t.update(i * 100, [face(B, hit(null, 0.3 + i * 0.01))]).decisions).toEqual([]);
    const d = t.update(300, [face(B, hit(null, 0.2))]).decisions;
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ type: 'new', person: null });
    expect(d[0]!.similarity).toBeCloseTo(0.32);
  });

  it('goes with the quality-weighted majority, not the frame count', () => {
    const poor = { ...good, size: 28 }; // weight 0.25
    const t = new Tracker('cam', cfg({ confirmFrames: 3 }));
    const out: string[] = [];
    const feed = (time: number, m: MatchResult, q = good) =>
      out.push(...t.update(time, [face(B, m, q)]).decisions.map((d) => `${d.type}:${d.person?.name ?? 'unknown'}`));
    feed(0, hit(alice), poor);
    feed(100, hit(bob));
    feed(200, hit(alice), poor);
    feed(300, hit(bob));
    feed(400, hit(alice), poor); // alice: 3 frames, weight 0.75 < bob 2.0 → no name
    expect(out).toEqual([]);
    feed(500, hit(bob)); // bob: 3 frames and the majority
    expect(out).toEqual(['new:bob']);
  });

  it('gives no name on a tie', () => {
    const half = { ...good, size: 56 }; // weight 0.5
    const t = new Tracker('cam', cfg({ confirmFrames: 2, unknownFrames: 10 }));
    const kinds: string[] = [];
    const feed = (time: number, m: MatchResult, q = good) => {
      const u = t.update(time, [face(B, m, q)]);
      kinds.push(...u.decisions.map((d) => `${d.type}:${d.person?.name ?? 'unknown'}`));
      return u.names[0];
    };
    feed(0, hit(bob));
    feed(100, hit(alice), half);
    // alice: 2 frames, weight 1.0; bob: 1 frame, weight 1.0 — a tie: no name.
    expect(feed(200, hit(alice), half)).toBeNull();
    expect(kinds).toEqual([]);
    feed(300, hit(bob));
    expect(kinds).toEqual(['new:bob']);
  });

  it('declares unknown when two people tie with enough frames each', () => {
    const t = new Tracker('cam', cfg({ confirmFrames: 2, unknownFrames: 10 }));
    const carol = { id: 'c', name: 'carol' };
    const kinds: string[] = [];
    for (const [i, p] of [alice, bob, carol, alice].entries()) kinds.push(...t.update(i * 100, [face(B, hit(p))]).decisions.map((d) => d.type));
    expect(kinds).toEqual([]); // alice leads with 2 of 4 votes: no majority
    const d = t.update(400, [face(B, hit(bob))]).decisions;
    expect(d.map((x) => `${x.type}:${x.person?.name ?? 'unknown'}`)).toEqual(['new:unknown']);
  });

  it('updates when the identity changes and when similarity improves markedly, at most once a second', () => {
    const t = new Tracker('cam', cfg({ confirmFrames: 2, unknownFrames: 2 }));
    const seq: string[] = [];
    const feed = (time: number, m: MatchResult) =>
      seq.push(...t.update(time, [face(B, m)]).decisions.map((d) => `${d.type}:${d.person?.name ?? 'unknown'}:${d.similarity?.toFixed(2)}`));
    feed(0, hit(null, 0.3));
    feed(100, hit(null, 0.35)); // unknown
    feed(200, hit(alice, 0.6));
    feed(300, hit(alice, 0.6)); // alice named
    feed(400, hit(alice, 0.7)); // +0.10 but only 100 ms later: no update
    feed(1300, hit(alice, 0.71)); // ≥ 1 s after the last event and ≥ +0.05: update
    feed(2400, hit(alice, 0.74)); // only +0.03 over the last event: no update
    expect(seq).toEqual(['new:unknown:0.35', 'update:alice:0.60', 'update:alice:0.71']);
  });

  it('ends a decided track after endAfterSeconds unseen, with duration and the best face', () => {
    const t = new Tracker('cam', cfg({ confirmFrames: 1, endAfterSeconds: 2 }));
    const blurry = face(B, hit(alice), { ...good, blur: 30 });
    const sharp = face(shift(B, 10), hit(alice));
    t.update(1000, [blurry]);
    t.update(1500, [sharp]);
    t.update(2000, [face(shift(B, 20), hit(alice), { ...good, score: 0.9 })]);
    expect(t.update(3900, []).decisions).toEqual([]);
    const d = t.update(4000, []).decisions;
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ type: 'end', track: 'cam-1', person: alice, duration: 1, time: 4000 });
    expect(d[0]!.best?.aligned).toBe(sharp.face!.aligned);
    expect(d[0]!.best?.embedding).toBe(sharp.face!.embedding);
    expect(t.size).toBe(0);
  });

  it('ends undecided tracks silently; gated-out detections keep tracks alive but start none', () => {
    const t = new Tracker('cam', cfg({ confirmFrames: 3, endAfterSeconds: 1 }));
    t.update(0, [face(B, hit(alice))]);
    const rejected: TrackInput = { box: shift(B, 5), quality: { ...good, blur: 1 } };
    expect(t.update(900, [rejected]).tracks).toEqual(['cam-1']);
    expect(t.update(1800, [rejected]).tracks).toEqual(['cam-1']);
    expect(t.update(2900, []).decisions).toEqual([]);
    expect(t.size).toBe(0);
    expect(t.update(3000, [rejected]).tracks).toEqual([null]);
    expect(t.size).toBe(0);
  });

  it('flush ends every decided track', () => {
    const t = new Tracker('cam', cfg({ confirmFrames: 1, unknownFrames: 1 }));
    t.update(0, [face(B, hit(alice)), face([400, 0, 500, 100], hit(null))]);
    const d = t.flush(500);
    expect(d.map((x) => `${x.type}:${x.person?.name ?? 'unknown'}`).sort()).toEqual(['end:alice', 'end:unknown']);
    expect(t.size).toBe(0);
  });
});

describe('Tracker: tracks follow faces, not boxes', () => {
  const D = 64;
  const rand = rng(11);
  const A = randomUnit(D, rand);
  const Bo = randomUnit(D, rand);
  /** A face at `box` looking like `who` (cosine ≈ 0.9 to it). */
  const faceOf = (who: Float32Array, box: Box, m: MatchResult, support?: (id: string) => number): TrackInput => ({
    box,
    quality: good,
    match: m,
    support,
    face: { aligned: { width: 1, height: 1, data: new Uint8Array(3) }, embedding: unitWithCosine(who, 0.9, rand) },
  });
  const kinds = (ds: { type: string; person: { name: string } | null; track: string }[]) =>
    ds.map((d) => `${d.type}:${d.person?.name ?? 'unknown'}:${d.track}`);

  it('ends a named track when a different face takes its place, and the newcomer earns its own decision', () => {
    const t = new Tracker('door', cfg({ confirmFrames: 2, unknownFrames: 2 }), 'r1');
    const out: string[] = [];
    for (let i = 0; i < 3; i++) out.push(...kinds(t.update(i * 200, [faceOf(A, shift(B, i * 5), hit(alice, 0.7))]).decisions));
    expect(out).toEqual(['new:alice:door-r1-1']);
    // Within endAfterSeconds, at the same place, a face that looks nothing like the track's (cos ≈ 0).
    const u = t.update(600, [faceOf(Bo, shift(B, 10), hit(null, 0.1))]);
    expect(kinds(u.decisions)).toEqual(['end:alice:door-r1-1']);
    expect(u.tracks).toEqual(['door-r1-2']);
    expect(u.names).toEqual([null]);
    const v = t.update(800, [faceOf(Bo, shift(B, 12), hit(null, 0.1))]);
    expect(kinds(v.decisions)).toEqual(['new:unknown:door-r1-2']);
    expect(v.names).toEqual([null]);
  });

  it('keeps a track whose face still looks like it', () => {
    const t = new Tracker('door', cfg({ confirmFrames: 2 }), 'r1');
    for (let i = 0; i < 6; i++) expect(t.update(i * 200, [faceOf(A, shift(B, i * 8), hit(alice, 0.7))]).tracks).toEqual(['door-r1-1']);
  });

  it('ends every track at a scene cut and when time runs backwards', () => {
    const t = new Tracker('door', cfg({ confirmFrames: 1 }), 'r1');
    const dark = new Float32Array(16 * 27);
    const light = new Float32Array(16 * 27);
    for (let c = 0; c < 16; c++) {
      dark[c * 27] = 1;
      light[c * 27 + 26] = 1;
    }
    expect(kinds(t.update(0, [faceOf(A, B, hit(alice))], dark).decisions)).toEqual(['new:alice:door-r1-1']);
    expect(kinds(t.update(200, [faceOf(A, B, hit(alice))], dark).decisions)).toEqual([]);
    // Same face, same place, but the whole picture changed: a cut ends the track; a new one starts.
    const u = t.update(400, [faceOf(A, B, hit(alice))], light);
    expect(u.cut).toBe(true);
    expect(kinds(u.decisions)).toEqual(['end:alice:door-r1-1', 'new:alice:door-r1-2']);
    expect(kinds(t.update(100, [faceOf(A, B, hit(alice))], light).decisions)).toEqual(['end:alice:door-r1-2', 'new:alice:door-r1-3']);
  });

  it('takes the name away after dropFrames faces clearly under the threshold, and never draws it on them', () => {
    const t = new Tracker('door', cfg({ confirmFrames: 2, unknownFrames: 3, dropFrames: 3, dropMargin: 0.1 }), 'r1');
    const sim = { a: 0.7 };
    const support = (id: string) => (id === alice.id ? sim.a : -1);
    const step = (time: number) => t.update(time, [faceOf(A, B, sim.a >= 0.45 ? hit(alice, sim.a) : hit(null, sim.a), support)]);
    step(0);
    const named = step(200);
    expect(kinds(named.decisions)).toEqual(['new:alice:door-r1-1']);
    expect(named.names).toEqual(['alice']);
    expect(named.similarities).toEqual([0.7]);
    // 0.40 is under the threshold (0.45) but within dropMargin: still drawn, name kept.
    sim.a = 0.4;
    expect(step(400).names).toEqual(['alice']);
    // 0.2 is clearly under: not drawn with the name; the third such face takes the name away.
    sim.a = 0.2;
    const seen = [step(600), step(800), step(1000)];
    expect(seen.map((u) => u.names[0])).toEqual([null, null, null]);
    expect(seen.map((u) => u.similarities[0])).toEqual([0.2, 0.2, 0.2]);
    expect(seen.flatMap((u) => kinds(u.decisions))).toEqual(['update:unknown:door-r1-1']);
  });

  it('applies a "not this person" correction to a live track at once, and the person gets no more votes there', () => {
    const t = new Tracker('door', cfg({ confirmFrames: 2, unknownFrames: 2 }), 'r1');
    t.update(0, [faceOf(A, B, hit(alice))]);
    t.update(200, [faceOf(A, B, hit(alice))]);
    const d = t.correct('door-r1-1', { kind: 'not-person', personId: alice.id }, 300);
    expect(kinds(d)).toEqual(['update:unknown:door-r1-1']);
    const later = [400, 600, 800].flatMap((time) => t.update(time, [faceOf(A, B, hit(alice))]));
    expect(later.flatMap((u) => kinds(u.decisions))).toEqual([]);
    expect(later.map((u) => u.names[0])).toEqual([null, null, null]);
    expect(t.correct('door-r1-9', { kind: 'not-person', personId: alice.id }, 900)).toEqual([]);
    // "This is bob": the track is bob at once.
    expect(kinds(t.correct('door-r1-1', { kind: 'reassigned', person: bob }, 1000))).toEqual(['update:bob:door-r1-1']);
  });

  it('draws no name on a gated-out detection of a named track', () => {
    const t = new Tracker('door', cfg({ confirmFrames: 1 }), 'r1');
    expect(t.update(0, [faceOf(A, B, hit(alice))]).names).toEqual(['alice']);
    const u = t.update(200, [{ box: shift(B, 4), quality: { ...good, blur: 1 } }]);
    expect(u.tracks).toEqual(['door-r1-1']);
    expect(u.names).toEqual([null]);
  });
});

describe('scene signature', () => {
  it('is 0 for the same frame and large for a different picture', () => {
    const img = (f: (x: number, y: number) => [number, number, number]): RgbImage => {
      const data = new Uint8Array(64 * 36 * 3);
      for (let y = 0; y < 36; y++) for (let x = 0; x < 64; x++) data.set(f(x, y), (y * 64 + x) * 3);
      return { width: 64, height: 36, data };
    };
    const a = img((x) => (x < 32 ? [20, 20, 20] : [200, 180, 160]));
    const shifted = img((x) => (x < 34 ? [20, 20, 20] : [200, 180, 160]));
    const b = img((x) => (x < 32 ? [200, 180, 160] : [20, 20, 20]));
    expect(signatureDistance(frameSignature(a), frameSignature(a))).toBe(0);
    expect(signatureDistance(frameSignature(a), frameSignature(shifted))).toBeLessThan(0.15);
    expect(signatureDistance(frameSignature(a), frameSignature(b))).toBeGreaterThan(0.9);
  });
});
