/**
 * The loop with a FAKE engine: each frame image is mapped to the faces the test wants "detected", with
 * embeddings built at known cosines to the enrolled samples, so every decision is derivable by hand.
 */
import { describe, expect, it } from 'vitest';
import { defaultConfig, type Config } from '../src/config/schema.js';
import type { FaceEngine, FrameFaces } from '../src/engine/types.js';
import { randomUnit, rng, unitWithCosine } from '../src/match/random.js';
import { PipelineLoop, type FrameSource, type LoopFrame } from '../src/pipeline/loop.js';
import type { RecognitionEvent } from '../src/events/types.js';
import type { PipelineObserver } from '../src/pipeline/observer.js';
import type { Person, Sample } from '../src/store/types.js';
import { Bus } from '../src/events/bus.js';
import { silentLogger } from '../src/util/log.js';
import type { Box, Face, RgbImage } from '../src/vision/types.js';

const D = 192;
const rand = rng(7);
const quality = { size: 120, score: 0.99, blur: 150, yaw: 0, pitch: 0, roll: 0 };
const alice: Person = { id: 'pa', name: 'alice', created: '', notes: '' };
const bob: Person = { id: 'pb', name: 'bob', created: '', notes: '' };
const centre = { alice: randomUnit(D, rand), bob: randomUnit(D, rand) };
const sample = (p: Person, e: Float32Array, id: string): Sample => ({
  id,
  personId: p.id,
  embedding: Float32Array.from(e),
  modelId: 'fake-embedder',
  quality,
  source: 'cli',
  created: '',
  negative: false,
});

class FakeEngine implements FaceEngine {
  readonly embedderId = 'fake-embedder';
  readonly detectorId = 'fake-detector';
  readonly defaultThreshold = 0.5;
  readonly provider = 'cpu';
  readonly calls: { frames: number; gate: unknown }[] = [];
  failNext = false;
  /** Engine workers; with `delays`, call k takes delays[k] ms (so calls can finish out of order). */
  parallelism = 1;
  delays: number[] = [];
  /** Calls (by index) that throw after their delay. */
  failing = new Set<number>();
  running = 0;
  maxRunning = 0;
  private readonly script = new WeakMap<RgbImage, FrameFaces>();

  /** A frame whose analysis yields these faces. */
  frame(faces: { box: Box; embedding: Float32Array }[], rejected: Box[] = []): RgbImage {
    const image: RgbImage = { width: 4, height: 4, data: new Uint8Array(48) };
    const crop = (): RgbImage => ({ width: 112, height: 112, data: new Uint8Array(112 * 112 * 3) });
    this.script.set(image, {
      faces: faces.map((f): Face => ({ box: f.box, score: 0.99, landmarks: [], quality: { ...quality }, aligned: crop(), embedding: f.embedding })),
      rejected: rejected.map((box) => ({ box, score: 0.5, landmarks: [], quality: { ...quality, score: 0.5 }, reason: 'score' as const })),
    });
    return image;
  }
  async detect(): Promise<never> {
    throw new Error('not used');
  }
  async analyze(frames: RgbImage[], gate?: unknown): Promise<FrameFaces[]> {
    const k = this.calls.length;
    const delay = this.delays[k] ?? 0;
    this.calls.push({ frames: frames.length, gate });
    this.maxRunning = Math.max(this.maxRunning, ++this.running);
    if (delay) await new Promise((r) => setTimeout(r, delay));
    this.running--;
    if (this.failing.has(k)) throw new Error(`engine failed on call ${k}`);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('engine hiccup');
    }
    return frames.map((f) => this.script.get(f)!);
  }
  async embedAligned(): Promise<never> {
    throw new Error('not used');
  }
  async close() {}
}

class Recorder implements PipelineObserver {
  stages: string[] = [];
  batches: [string, number][] = [];
  faceCounts: number[] = [];
  dropped: [string, number][] = [];
  latencies: number[] = [];
  stage(s: string) {
    this.stages.push(s);
  }
  batch(m: string, n: number) {
    this.batches.push([m, n]);
  }
  faces(n: number) {
    this.faceCounts.push(n);
  }
  framesDropped(c: string, n: number) {
    this.dropped.push([c, n]);
  }
  eventLatency(s: number) {
    this.latencies.push(s);
  }
}

function setup(over: (c: Config) => void = () => {}) {
  const config = defaultConfig();
  config.track = { ...config.track, iou: 0.3, confirmFrames: 3, unknownFrames: 4, endAfterSeconds: 1 };
  over(config);
  const engine = new FakeEngine();
  const bus = new Bus();
  const people = [alice, bob];
  const samples = [sample(alice, unitWithCosine(centre.alice, 0.95, rand), 's1'), sample(alice, unitWithCosine(centre.alice, 0.95, rand), 's2')];
  const facebank = { people: async () => people, samples: async () => samples };
  const saved: RgbImage[] = [];
  const snapshots = { save: async (img: RgbImage) => (saved.push(img), `snap-${saved.length}`) };
  const events: [RecognitionEvent, Float32Array | null][] = [];
  bus.on('recognition', (e, x) => events.push([e, x.embedding]));
  const observer = new Recorder();
  return { config, engine, bus, samples, facebank, saved, snapshots, events, observer, runId: 'run1' };
}

const A: Box = [100, 100, 220, 240];
const S: Box = [400, 100, 500, 220];
const seq = (evs: [RecognitionEvent, unknown][]) => evs.map(([e]) => `${e.camera}:${e.type}:${e.person?.name ?? 'unknown'}`);

describe('PipelineLoop.processFrames (scan)', () => {
  it('decides alice and an unknown stranger, with snapshots and embeddings, in few analyze calls', async () => {
    const t = setup();
    const loop = new PipelineLoop({ ...t, sources: [], log: silentLogger(), batchFrames: 4 });
    const t0 = Date.UTC(2026, 0, 1, 12, 0, 0);
    const frames: LoopFrame[] = [];
    // door: alice (cos ≈ 0.95² ≈ 0.8 to her samples) on frames 0..5; yard: a random stranger on frames 0..4.
    const stranger = randomUnit(D, rand);
    for (let i = 0; i < 8; i++) {
      const doorFaces = i < 6 ? [{ box: A, embedding: unitWithCosine(centre.alice, 0.95, rand) }] : [];
      frames.push({ camera: 'door', image: t.engine.frame(doorFaces), time: t0 + i * 200 });
      const yardFaces = i < 5 ? [{ box: S, embedding: unitWithCosine(stranger, 0.95, rand) }] : [];
      frames.push({ camera: 'yard', image: t.engine.frame(yardFaces, i >= 5 ? [S] : []), time: t0 + i * 200 });
    }
    const out = await loop.processFrames(frames);
    expect(t.engine.calls.map((c) => c.frames)).toEqual([4, 4, 4, 4]);
    expect(t.engine.calls[0]!.gate).toEqual(t.config.pipeline.quality);
    // 3rd alice frame names her; the 4th stranger frame makes him unknown.
    expect(seq(t.events)).toEqual(['door:new:alice', 'yard:new:unknown']);
    const [named] = t.events[0]!;
    expect(named.frameTime).toBe(new Date(t0 + 400).toISOString());
    expect(named.track).toBe('door-run1-1');
    expect(named.similarity).toBeGreaterThan(0.8);
    expect(named.snapshot).toBe('snap-1');
    expect(t.events[0]![1]).toBeInstanceOf(Float32Array);
    expect(Date.parse(named.publishTime)).toBeGreaterThan(0);
    expect(t.events[1]![0].similarity).toBeLessThan(0.4);
    // alice last seen at +1000, so her track would end at +2000 (1 s unseen): still open after the last frame
    // (+1400). The stranger's track is kept alive by his gated-out detections up to +1400.
    const ends = await loop.flush(t0 + 1400);
    expect(ends.map((e) => `${e.camera}:${e.type}:${e.person?.name ?? 'unknown'}:${e.duration}`).sort()).toEqual(['door:end:alice:1', 'yard:end:unknown:1.4']);
    expect(out.length + ends.length).toBe(t.events.length);
    expect(loop.latestFaces('door')).toMatchObject({ time: t0 + 1400, boxes: [] });
    expect(loop.latestFaces('yard')!.boxes).toEqual([{ box: S, name: null, label: null, similarity: null, track: 'yard-run1-1' }]);
  });

  it('keeps one analysis per engine worker in flight and still tracks in time order', async () => {
    const t = setup((c) => (c.track.confirmFrames = 2));
    t.engine.parallelism = 2;
    // Later batches finish first: 60, 5, 40, 5 ms.
    t.engine.delays = [60, 5, 40, 5];
    const loop = new PipelineLoop({ ...t, sources: [], log: silentLogger(), batchFrames: 1 });
    const face = () => [{ box: A, embedding: unitWithCosine(centre.alice, 0.95, rand) }];
    const frames = [0, 1, 2, 3].map((i): LoopFrame => ({ camera: 'door', image: t.engine.frame(i < 3 ? face() : []), time: 1000 + 200 * i }));
    await loop.processFrames(frames);
    expect(t.engine.maxRunning).toBe(2);
    expect(t.engine.calls).toHaveLength(4);
    // Named on the 2nd frame; the last frame (no face) was tracked last, so the box list is empty.
    expect(seq(t.events)).toEqual(['door:new:alice']);
    expect(t.events[0]![0].frameTime).toBe(new Date(1200).toISOString());
    expect(loop.latestFaces('door')).toMatchObject({ time: 1600, boxes: [] });
  });

  it('fails with the first failed batch, and a later failure in flight is handled too', async () => {
    const t = setup();
    t.engine.parallelism = 2;
    t.engine.delays = [30, 5];
    t.engine.failing = new Set([0, 1]);
    const loop = new PipelineLoop({ ...t, sources: [], log: silentLogger(), batchFrames: 1 });
    const frames = [0, 1].map((i): LoopFrame => ({ camera: 'door', image: t.engine.frame([]), time: 1000 + 200 * i }));
    await expect(loop.processFrames(frames)).rejects.toThrow('engine failed on call 0');
    // Give the second rejection time to surface: vitest fails the run on an unhandled rejection.
    await new Promise((r) => setTimeout(r, 50));
  });

  it('rebuilds the matcher when the facebank changes', async () => {
    const t = setup((c) => (c.track.confirmFrames = 1));
    const loop = new PipelineLoop({ ...t, sources: [], log: silentLogger() });
    const bobFace = () => [{ box: A, embedding: unitWithCosine(centre.bob, 0.95, rand) }];
    await loop.processFrames([{ camera: 'c', image: t.engine.frame(bobFace()), time: 1000 }]);
    expect(loop.latestFaces('c')!.boxes[0]!.name).toBeNull();
    t.samples.push(sample(bob, unitWithCosine(centre.bob, 0.95, rand), 's3'));
    await loop.processFrames([{ camera: 'c', image: t.engine.frame(bobFace()), time: 1200 }]);
    expect(loop.latestFaces('c')!.boxes[0]!.name).toBeNull(); // no facebankChanged yet: old index
    t.bus.emit('facebankChanged', { seq: 0, time: new Date().toISOString(), op: 'replace' });
    await loop.processFrames([{ camera: 'c', image: t.engine.frame(bobFace()), time: 1400 }]);
    expect(loop.latestFaces('c')!.boxes[0]).toMatchObject({ name: 'bob', track: 'c-run1-1' });
    expect(seq(t.events)).toEqual(['c:new:bob']);
  });

  it('honours config.match.threshold over the engine default', async () => {
    const t = setup((c) => {
      c.track.confirmFrames = 1;
      c.match.threshold = 0.95; // the face is ≈ 0.90 to her samples
    });
    const loop = new PipelineLoop({ ...t, sources: [], log: silentLogger() });
    await loop.processFrames([{ camera: 'c', image: t.engine.frame([{ box: A, embedding: unitWithCosine(centre.alice, 0.95, rand) }]), time: 0 }]);
    expect(loop.latestFaces('c')!.boxes[0]!.name).toBeNull();
  });
});

describe('PipelineLoop live', () => {
  it('batches all cameras into one analyze per tick, survives a failed tick, ends quiet tracks, stops cleanly', async () => {
    const t = setup((c) => (c.track.endAfterSeconds = 0.3));
    const queues = new Map<string, { image: RgbImage; seq: number; time: number }[]>([
      ['door', []],
      ['yard', []],
    ]);
    const sources: FrameSource[] = [...queues.keys()].map((name) => ({
      name,
      takeLatest: () => {
        const q = queues.get(name)!;
        const f = q.at(-1) ?? null;
        q.length = 0;
        return f;
      },
    }));
    let ticks = 0;
    const loop = new PipelineLoop({ ...t, sources, log: silentLogger(), onTick: () => ticks++, idleMs: 5 });
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(cond()).toBe(true);
    };
    loop.start();
    const tickCalls = () => t.engine.calls.length;
    let s = 0;
    const push = (withAlice: boolean) => {
      s++;
      const before = tickCalls();
      const aliceFaces = withAlice ? [{ box: A, embedding: unitWithCosine(centre.alice, 0.95, rand) }] : [];
      queues.get('door')!.push({ image: t.engine.frame(aliceFaces), seq: s, time: Date.now() });
      queues.get('yard')!.push({ image: t.engine.frame([]), seq: s, time: Date.now() });
      return until(() => tickCalls() > before);
    };
    t.engine.failNext = true;
    await push(true); // this tick fails inside the engine: logged, loop goes on
    for (let i = 0; i < 3; i++) await push(true);
    await until(() => t.events.length === 1);
    expect(seq(t.events)).toEqual(['door:new:alice']);
    // Two cameras, one analyze call each tick.
    expect(t.engine.calls.every((c) => c.frames === 2)).toBe(true);
    // A gap in seq counts dropped frames.
    s += 3;
    await push(false);
    expect(t.observer.dropped).toEqual([
      ['door', 3],
      ['yard', 3],
    ]);
    // No more frames: alice's track ends by the clock.
    await until(() => t.events.length === 2);
    expect(seq(t.events)).toEqual(['door:new:alice', 'door:end:alice']);
    expect(t.observer.latencies.length).toBe(1);
    expect(t.observer.stages).toEqual(expect.arrayContaining(['detect', 'match', 'track', 'tick']));
    expect(t.observer.batches).toContainEqual(['detector', 2]);
    expect(t.observer.faceCounts).toContain(1);
    const idleTicks = ticks;
    await new Promise((r) => setTimeout(r, 100));
    expect(ticks).toBeGreaterThan(idleTicks); // watchdog pinged while idle
    expect(ticks - idleTicks).toBeLessThan(40); // polling, not spinning (5 ms sleeps)
    await loop.stop();
    const calls = tickCalls();
    queues.get('door')!.push({ image: t.engine.frame([]), seq: 99, time: Date.now() });
    await new Promise((r) => setTimeout(r, 50));
    expect(tickCalls()).toBe(calls);
  });

  it('analyses the next frames of a camera while the previous ones are still in the engine', async () => {
    const t = setup((c) => (c.track.confirmFrames = 2));
    t.engine.parallelism = 2;
    t.engine.delays = [80, 10, 10, 10, 10, 10];
    let n = 0;
    const src: FrameSource = {
      name: 'door',
      takeLatest: () =>
        n < 6 ? { image: t.engine.frame([{ box: A, embedding: unitWithCosine(centre.alice, 0.95, rand) }]), seq: ++n, time: 1000 + 100 * n } : null,
    };
    const loop = new PipelineLoop({ ...t, sources: [src], log: silentLogger(), idleMs: 5 });
    loop.start();
    for (let i = 0; i < 200 && t.engine.calls.length < 6; i++) await new Promise((r) => setTimeout(r, 10));
    await loop.stop();
    expect(t.engine.maxRunning).toBe(2);
    expect(t.engine.calls).toHaveLength(6);
    // Frames 1 and 2 confirm alice: one 'new' at frame 2's time despite frame 2 finishing first, then her 'end'.
    expect(seq(t.events)).toEqual(['door:new:alice', 'door:end:alice']);
    expect(t.events[0]![0].frameTime).toBe(new Date(1200).toISOString());
    expect(loop.latestFaces('door')!.time).toBe(1600);
  });

  it('ends open tracks on stop', async () => {
    const t = setup((c) => (c.track.confirmFrames = 1));
    let given = false;
    const src: FrameSource = {
      name: 'door',
      takeLatest: () => {
        if (given) return null;
        given = true;
        return { image: t.engine.frame([{ box: A, embedding: unitWithCosine(centre.alice, 0.95, rand) }]), seq: 1, time: Date.now() };
      },
    };
    const loop = new PipelineLoop({ ...t, sources: [src], log: silentLogger(), idleMs: 5 });
    loop.start();
    for (let i = 0; i < 200 && t.events.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await loop.stop();
    expect(seq(t.events)).toEqual(['door:new:alice', 'door:end:alice']);
    expect(t.events[1]![0].snapshot).toBe(t.events[0]![0].snapshot);
  });

  it('announces the operating point at start, before any face, and applies a correction to a live track', async () => {
    const t = setup((c) => (c.track.confirmFrames = 1));
    const points: unknown[] = [];
    t.bus.on('operatingPoint', (p) => points.push(p));
    const queue: { image: RgbImage; seq: number; time: number }[] = [];
    let seqNo = 0;
    const src: FrameSource = { name: 'door', takeLatest: () => queue.shift() ?? null };
    const loop = new PipelineLoop({ ...t, sources: [src], log: silentLogger(), idleMs: 5 });
    loop.start();
    for (let i = 0; i < 200 && points.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    // The fake embedder has no open-set rule: the engine's 1:1 threshold, for the one person with samples.
    expect(points).toEqual([
      { threshold: 0.5, people: 1, targetFpir: null, source: 'one-to-one', trackThresholds: [0.5], extrapolated: false, largestMeasured: null, rule: null },
    ]);
    const alice = () => ({ image: t.engine.frame([{ box: A, embedding: unitWithCosine(centre.alice, 0.95, rand) }]), seq: ++seqNo, time: Date.now() });
    queue.push(alice());
    for (let i = 0; i < 200 && t.events.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const track = t.events[0]![0].track;
    t.bus.emit('correction', { camera: 'door', track, kind: 'not-person', person: { id: 'pa', name: 'alice' } });
    for (let i = 0; i < 200 && t.events.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    await loop.stop();
    expect(seq(t.events)).toEqual(['door:new:alice', 'door:update:unknown', 'door:end:unknown']);
    expect(new Set(t.events.map(([e]) => e.track))).toEqual(new Set([track]));
  });
});
